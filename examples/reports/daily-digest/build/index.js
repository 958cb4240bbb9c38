const { render } = require('./render')

exports.handler = async task => ({ digest: render(task.data ?? {}) })
