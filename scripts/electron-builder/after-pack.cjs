// electron-builder loads hooks with require(); the hook itself is TypeScript (after-pack.ts), run through tsx.
const { register } = require('tsx/cjs/api')

register()
module.exports = require('./after-pack.ts')
