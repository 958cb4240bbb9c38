exports.handler = async () => ({ message: process.env.GREETING })
