/**
 * The `layers/ordered` ESLint rule: inside one folder (src/main/core), each
 * unit — a subfolder, or a file at the folder's root — imports only from
 * the layers below its own, as VS Code's `code-layering` rule checks
 * `common → node → electron-main` inside every folder. Units that share a
 * layer are independent: they do not import each other. A unit that is in
 * no layer is reported, so a new folder has to be placed before it lints.
 *
 * Only relative imports are checked (the core reaches its own files no other
 * way); what lies outside the folder is the other layer rules' business.
 *
 * Options: `{ root: 'src/main/core', layers: [{ name, units }], readme }`,
 * lowest layer first; a folder unit ends in `/` (`'pipeline/'`), a root file
 * is named without its extension (`'logger'`).
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path'

const SOURCE_EXTENSION = /\.(?:[cm]?[jt]s|vue)$/

/** @type {import('eslint').Rule.RuleModule} */
const ordered = {
  meta: {
    type: 'problem',
    docs: { description: 'Units of a folder import only from the layers below their own' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          readme: { type: 'string' },
          layers: {
            type: 'array',
            items: {
              type: 'object',
              properties: { name: { type: 'string' }, units: { type: 'array', items: { type: 'string' } } },
              required: ['name', 'units'],
              additionalProperties: false,
            },
          },
        },
        required: ['root', 'layers'],
        additionalProperties: false,
      },
    ],
    messages: {
      upward:
        '{{from}} ({{fromLayer}} layer) may not import {{to}} ({{toLayer}} layer): a unit imports only from the layers below its own ({{readme}}).',
      sibling:
        '{{from}} and {{to}} share the {{layer}} layer, whose units do not import each other: move what both need to a lower layer ({{readme}}).',
      unplaced: '{{unit}} is in no layer of {{root}}: give it one in eslint.config.mjs and {{readme}}.',
    },
  },

  create(context) {
    const { root, layers, readme = `${root}/README.md` } = context.options[0]
    const rootDir = resolve(context.cwd, root)
    /** @type {Map<string, { rank: number, name: string }>} */
    const layerOf = new Map()
    layers.forEach((layer, rank) => {
      for (const unit of layer.units) layerOf.set(unit, { rank, name: layer.name })
    })

    /** The unit a path belongs to (`pipeline/`, `logger`), or null outside the root. */
    function unitOf(path) {
      const inside = relative(rootDir, path)
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return null
      const [first, ...rest] = inside.split(sep)
      return rest.length > 0 ? `${first}/` : first.replace(SOURCE_EXTENSION, '')
    }
    const shown = (unit) => (unit.endsWith('/') ? unit : `${unit}.ts`)

    const file = context.filename
    const own = unitOf(file)
    if (own === null) return {}
    const ownLayer = layerOf.get(own)

    function check(node) {
      const specifier = node?.value
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return
      const target = unitOf(resolve(dirname(file), specifier))
      if (target === null || target === own || ownLayer === undefined) return
      const targetLayer = layerOf.get(target)
      if (targetLayer === undefined) {
        context.report({ node, messageId: 'unplaced', data: { unit: `${root}/${shown(target)}`, root, readme } })
      } else if (targetLayer.rank === ownLayer.rank) {
        context.report({
          node,
          messageId: 'sibling',
          data: { from: shown(own), to: shown(target), layer: ownLayer.name, readme },
        })
      } else if (targetLayer.rank > ownLayer.rank) {
        context.report({
          node,
          messageId: 'upward',
          data: {
            from: shown(own),
            fromLayer: ownLayer.name,
            to: shown(target),
            toLayer: targetLayer.name,
            readme,
          },
        })
      }
    }

    return {
      Program(node) {
        if (ownLayer === undefined) {
          context.report({ node, messageId: 'unplaced', data: { unit: `${root}/${shown(own)}`, root, readme } })
        }
      },
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      // `import('../pipeline/fanout').Fanout` in a type.
      TSImportType: (node) => check(node.source ?? node.argument?.literal),
    }
  },
}

export default { meta: { name: 'layers' }, rules: { ordered } }
