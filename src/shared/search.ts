/**
 * The search language of the history (`GET /api/tasks?q=`, `GET /api/logs?q=`),
 * zod-free: the server turns a parsed query into SQLite FTS5 or PostgreSQL
 * tsquery text, and the dashboard applies the same rule to the live lines it
 * holds, so a line shown live and one read back from the history match alike.
 *
 * A query is words: every word must be in the text (AND), as a whole word,
 * case-insensitively. `"two words"` must stand together, in that order. A word
 * ending in `*` matches the words that start with it (at least
 * `SEARCH_LIMITS.minPrefix` characters before the `*`). Everything that is not
 * a letter, a digit or a combining mark separates words, so punctuation, FTS
 * operators and quotes a user did not close are never syntax: `t-42` is the
 * phrase `t 42`, `a OR b` the three words `a`, `or`, `b`.
 */

export const SEARCH_LIMITS = {
  /** Characters of `q` at most; more is refused (`400`). */
  maxLength: 200,
  /** Words and phrases at most; more is refused (`400`). */
  maxTerms: 8,
  /** A prefix (`word*`) needs this many characters; a shorter one is a whole word. */
  minPrefix: 3,
} as const

/** One word, or a phrase of words that must follow one another. */
export interface SearchTerm {
  words: string[]
  /** The last word may be the start of a longer one. */
  prefix: boolean
}

export type ParsedSearch = { ok: true; terms: SearchTerm[] } | { ok: false; problem: string }

const WORD = /[\p{L}\p{N}\p{M}]+/gu

/** The words of a text as the index holds them: lower case, split at everything but letters, digits and marks. */
export function searchWords(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? []
}

/** A text reduced to its words, one space between them: what the PostgreSQL index is given. */
export function searchableText(text: string): string {
  return searchWords(text).join(' ')
}

/** Parses `q`; a query without a word to look for, too long, or of too many terms is a problem, said in words. */
export function parseSearch(q: string): ParsedSearch {
  if (q.length > SEARCH_LIMITS.maxLength) {
    return { ok: false, problem: `q is longer than ${SEARCH_LIMITS.maxLength} characters` }
  }
  if (q.includes('\u0000')) return { ok: false, problem: 'q must not contain a NUL byte' }
  const terms: SearchTerm[] = []
  // A quoted phrase, or a run of anything but spaces and quotes; a quote left open runs to the end.
  for (const match of q.matchAll(/"([^"]*)"?(\*?)|([^\s"]+)/g)) {
    const raw = match[1] ?? match[3] ?? ''
    const words = searchWords(raw)
    if (words.length === 0) continue
    const starred = match[1] !== undefined ? match[2] === '*' : raw.endsWith('*')
    const prefix = starred && words.at(-1)!.length >= SEARCH_LIMITS.minPrefix
    terms.push({ words, prefix })
  }
  if (terms.length === 0) return { ok: false, problem: 'q holds no word to search for (letters or digits)' }
  if (terms.length > SEARCH_LIMITS.maxTerms) {
    return { ok: false, problem: `q holds ${terms.length} words or phrases; at most ${SEARCH_LIMITS.maxTerms}` }
  }
  return { ok: true, terms }
}

/** Whether a text matches every term: the rule the indexes apply, for lines the dashboard holds itself. */
export function matchesSearch(text: string, terms: readonly SearchTerm[]): boolean {
  const words = searchWords(text)
  return terms.every((term) => {
    const last = term.words.length - 1
    for (let start = 0; start + last < words.length; start++) {
      let all = true
      for (let i = 0; i <= last && all; i++) {
        const word = words[start + i]!
        all = i === last && term.prefix ? word.startsWith(term.words[i]!) : word === term.words[i]
      }
      if (all) return true
    }
    return false
  })
}
