exports.render = data => `Digest for ${data.day ?? 'today'}`
