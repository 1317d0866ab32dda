/**
 * Hostile values for the fuzz tests: wrong types, huge strings, deep nesting,
 * prototype-pollution keys, and invalid versions of valid payloads.
 */
import fc from 'fast-check'

export const nest = (depth: number): unknown => {
  let value: unknown = 'bottom'
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { n: value }
  return value
}

/** An object with an own property of any name, `__proto__` included (as JSON.parse makes them). */
export const withOwnKey = (base: object, key: string, value: unknown): Record<string, unknown> => {
  const copy: Record<string, unknown> = { ...base }
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true })
  return copy
}

export const pollution = fc.constantFrom(
  JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown,
  JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}') as unknown,
  JSON.parse('{"taskId": "x", "__proto__": {"isAdmin": true}}') as unknown,
  JSON.parse('{"agentId": "x", "__proto__": null}') as unknown,
)

export const notAString = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.integer({ min: 33, max: 3000 }).map(nest),
  pollution,
)

/** Anything a client could send. Sizes stay under the 64 KiB message limit (tested apart: it closes the link). */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(null, true, 0, -1, 1e308, '', [], {}, '__proto__', 'constructor'),
  fc.constant('x'.repeat(15_000)),
  notAString,
)

/** A value that no number field of ours accepts. */
export const notANumber = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.integer({ min: 33, max: 3000 }).map(nest),
  pollution,
)

/** A value that no string field of ours accepts. */
export const badString = fc.oneof(notAString, fc.constant(''), fc.constant('y'.repeat(20_000)))

/**
 * Invalid versions of a valid payload: one field replaced by a value it
 * refuses, one required field missing, or one field too many (the schemas are strict).
 */
export function broken(
  base: Record<string, unknown>,
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: string[] = Object.keys(fields).filter((key) => key in base),
): fc.Arbitrary<unknown> {
  // Leaving out a field the valid payload does not have leaves it valid: such a "required" field is a mistake here.
  const absent = required.filter((key) => !(key in base))
  if (absent.length > 0) throw new Error(`broken(): required ${absent.join(', ')} not in the valid payload`)
  const keys = Object.keys(fields)
  return fc.oneof(
    fc.constantFrom(...keys).chain((key) => fields[key]!.map((value) => ({ ...base, [key]: value }))),
    fc.constantFrom(...required).map((key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key))),
    fc
      .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype', 'isAdmin', 'extra'), junk)
      .map(([key, value]) => withOwnKey(base, key, value)),
  )
}
