/**
 * The search language both history backends and the dashboard's live filter
 * share: what a query means, what it refuses, and how a text matches.
 */
import { describe, expect, it } from 'vitest'
import { matchesSearch, parseSearch, searchableText, SEARCH_LIMITS } from '../../../src/shared/search'

const terms = (q: string) => {
  const parsed = parseSearch(q)
  if (!parsed.ok) throw new Error(parsed.problem)
  return parsed.terms
}

describe('parseSearch', () => {
  it('reads words, quoted phrases and prefixes; everything else separates words', () => {
    expect(terms('Backup  orders')).toEqual([
      { words: ['backup'], prefix: false },
      { words: ['orders'], prefix: false },
    ])
    expect(terms('"disk full" back* t-42')).toEqual([
      { words: ['disk', 'full'], prefix: false },
      { words: ['back'], prefix: true },
      { words: ['t', '42'], prefix: false },
    ])
    expect(terms('"relay ref"*')).toEqual([{ words: ['relay', 'ref'], prefix: true }])
    // A prefix shorter than the minimum is a whole word; an unclosed quote runs to the end.
    expect(terms('ab*')).toEqual([{ words: ['ab'], prefix: false }])
    expect(terms('x "open phrase')).toEqual([
      { words: ['x'], prefix: false },
      { words: ['open', 'phrase'], prefix: false },
    ])
    // A run without spaces is one term, its words a phrase: `NEAR(a` is "near a".
    expect(terms('NEAR(a b) OR ^c').map((term) => term.words)).toEqual([['near', 'a'], ['b'], ['or'], ['c']])
  })

  it('refuses an empty, oversized, NUL-holding or too long query, saying why', () => {
    expect(parseSearch('')).toEqual({ ok: false, problem: expect.stringMatching(/no word/) })
    expect(parseSearch('*** "" --')).toEqual({ ok: false, problem: expect.stringMatching(/no word/) })
    expect(parseSearch('a'.repeat(SEARCH_LIMITS.maxLength + 1))).toMatchObject({ ok: false })
    expect(parseSearch('a\u0000b')).toEqual({ ok: false, problem: 'q must not contain a NUL byte' })
    expect(parseSearch('a b c d e f g h i')).toEqual({
      ok: false,
      problem: expect.stringMatching(/9 words.*at most 8/),
    })
  })
})

describe('matchesSearch', () => {
  it('needs every term, whole words in any case, phrases in order, prefixes at a word start', () => {
    const line = 'Relay said 552: mailbox over-quota (smtp.example.org)'
    expect(matchesSearch(line, terms('relay QUOTA'))).toBe(true)
    expect(matchesSearch(line, terms('relay missing'))).toBe(false)
    expect(matchesSearch(line, terms('quot'))).toBe(false)
    expect(matchesSearch(line, terms('quot*'))).toBe(true)
    expect(matchesSearch(line, terms('"over quota"'))).toBe(true)
    expect(matchesSearch(line, terms('"quota over"'))).toBe(false)
    expect(matchesSearch(line, terms('"mailbox ove"*'))).toBe(true)
    expect(matchesSearch(line, terms('"example or"*'))).toBe(false) // "or": too short to be a prefix
    expect(matchesSearch(line, terms('smtp.example.org'))).toBe(true)
  })

  it('reduces a text to the words the PostgreSQL index is given', () => {
    expect(searchableText('/usr/bin/Python3 v1.2.3 café_crème — 日本')).toBe('usr bin python3 v1 2 3 café crème 日本')
  })
})
