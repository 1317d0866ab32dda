/**
 * The views' URL parameters (stores/ui.route.ts) and the ui store's router
 * over them, with a stand-in window: a link reproduces the filters, search
 * and sort of Tasks, Agents and Logs; defaults are not written; what does
 * not parse reads as the default; the token never leaves in a shared link.
 */
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { defaultViewState, viewParams, viewStateOf } from '../../../src/renderer/src/stores/ui.route'
import { shareableUrl, useUiStore } from '../../../src/renderer/src/stores/ui'

describe('view parameters', () => {
  it('writes only what differs from the default, and reads it back', () => {
    const tasks = defaultViewState().tasks
    expect(viewParams('tasks', tasks)).toEqual({})
    tasks.filter = { text: 'build #7', status: 'failed', agentId: 'a-1' }
    const params = viewParams('tasks', tasks)
    expect(params).toEqual({ 'tasks.q': 'build #7', 'tasks.status': 'failed', 'tasks.agent': 'a-1' })
    expect(viewStateOf('tasks', new URLSearchParams(new URLSearchParams(params).toString()))).toEqual(tasks)
  })

  it('carries the agents sort and the log levels', () => {
    const agents = defaultViewState().agents
    agents.sort = { key: 'done', descending: true }
    agents.filter.capability = 'gpu'
    expect(viewParams('agents', agents)).toEqual({ 'agents.sort': '-done', 'agents.cap': 'gpu' })
    expect(viewStateOf('agents', { 'agents.sort': '-done', 'agents.cap': 'gpu' })).toEqual(agents)
    const logs = defaultViewState().logs
    logs.filter.levels = ['error', 'warn']
    expect(viewParams('logs', logs)).toEqual({ 'logs.levels': 'warn,error' })
    logs.filter.levels = []
    expect(viewParams('logs', logs)).toEqual({ 'logs.levels': 'none' })
    expect(viewStateOf('logs', { 'logs.levels': 'none' }).filter.levels).toEqual([])
  })

  it('reads a value it does not know as the default', () => {
    const state = viewStateOf('agents', {
      'agents.status': 'asleep',
      'agents.sort': 'shoe-size',
      'tasks.q': 'other view',
    })
    expect(state).toEqual(defaultViewState().agents)
    expect(viewStateOf('logs', { 'logs.levels': 'loud,quiet' }).filter.levels).toEqual(
      defaultViewState().logs.filter.levels,
    )
    expect(viewStateOf('tasks', { 'tasks.q': 'x'.repeat(900) }).filter.text).toHaveLength(500)
  })

  it('shares a link without its token', () => {
    expect(shareableUrl('http://h:1/#token=secret&view=tasks&tasks.status=failed')).toBe(
      'http://h:1/#view=tasks&tasks.status=failed',
    )
    expect(shareableUrl('http://h:1/#token=secret')).toBe('http://h:1/')
  })
})

describe('the ui store as router', () => {
  const listeners: (() => void)[] = []
  const win = {
    location: { hash: '', href: '' },
    pushed: 0,
    history: {
      replaceState: (_d: unknown, _u: string, url: string) => {
        win.location.hash = url
      },
    },
    addEventListener: (_type: string, listener: () => void) => void listeners.push(listener),
  }
  const setHash = (hash: string) => {
    win.location.hash = hash
    for (const listener of listeners) listener()
  }
  beforeEach(() => {
    setActivePinia(createPinia())
    ;(globalThis as { window?: unknown }).window = win
    listeners.splice(0)
    win.location.hash = ''
  })
  afterEach(() => {
    delete (globalThis as { window?: unknown }).window
  })

  it('opens a link with its filters, keeps the token, and follows edits in place', async () => {
    win.location.hash = '#token=t0k&view=tasks&tasks.status=failed&tasks.q=shell'
    const ui = useUiStore()
    ui.startRouting()
    expect(ui.view).toBe('tasks')
    expect(ui.taskFilter).toMatchObject({ status: 'failed', text: 'shell', agentId: '' })
    ui.taskFilter.agentId = 'a-9'
    await nextTick()
    const params = new URLSearchParams(win.location.hash.replace(/^#/, ''))
    expect(params.get('token')).toBe('t0k')
    expect(params.get('tasks.agent')).toBe('a-9')
    // Another view's link: the tasks parameters leave the URL, the tasks filter stays for when it comes back.
    ui.navigate('agents')
    expect(new URLSearchParams(win.location.hash.replace(/^#/, '')).get('tasks.status')).toBeNull()
    ui.navigate('tasks')
    expect(new URLSearchParams(win.location.hash.replace(/^#/, '')).get('tasks.status')).toBe('failed')
    // Back to a link without filters: the defaults.
    setHash('#token=t0k&view=tasks')
    expect(ui.taskFilter).toMatchObject({ status: 'all', text: '', agentId: '' })
  })

  it('applies a saved view, and describes the shown one for saving', () => {
    const ui = useUiStore()
    ui.startRouting()
    ui.applySavedView({ view: 'logs', params: { 'logs.levels': 'error', 'logs.q': 'timeout' } })
    expect(ui.view).toBe('logs')
    expect(ui.logFilter).toMatchObject({ levels: ['error'], text: 'timeout' })
    expect(ui.savedViewInput('Errors')).toEqual({
      name: 'Errors',
      view: 'logs',
      params: { 'logs.levels': 'error', 'logs.q': 'timeout' },
    })
    ui.navigate('overview')
    expect(ui.savedViewInput('x')).toBeNull()
  })

  it('puts the open workflow in the link, keeps it across views, and follows back and forward', () => {
    const param = (key: string) => new URLSearchParams(win.location.hash.replace(/^#/, '')).get(key)
    win.location.hash = '#token=t0k&view=workflows&workflow=w-1'
    const ui = useUiStore()
    ui.startRouting()
    expect(ui.view).toBe('workflows')
    expect(ui.selectedWorkflowId).toBe('w-1')
    ui.openWorkflow('w-2')
    expect(param('workflow')).toBe('w-2')
    expect(param('token')).toBe('t0k')
    // Other views' links do not carry it; coming back to Workflows does.
    ui.navigate('tasks')
    expect(param('workflow')).toBeNull()
    ui.navigate('workflows')
    expect(param('workflow')).toBe('w-2')
    // Back to the first link: its workflow again.
    setHash('#token=t0k&view=workflows&workflow=w-1')
    expect(ui.selectedWorkflowId).toBe('w-1')
  })
})
