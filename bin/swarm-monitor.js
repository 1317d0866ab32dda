#!/usr/bin/env node
// The package's command: the headless server, built into out/ by `npm run build:app`.
require('../out/main/cli.js')
  .runHeadless(process.argv.slice(2))
  .catch((error) => {
    process.stderr.write(`swarm-monitor: ${error && error.stack ? error.stack : error}\n`)
    process.exit(1)
  })
