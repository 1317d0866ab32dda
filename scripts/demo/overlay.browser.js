/* global window, document, HTMLDialogElement */
// Runs in the recorded page (page.addInitScript, which the page's CSP does not
// apply to): a caption at the bottom and a mouse pointer, since a headless
// screencast shows neither what is happening nor where the clicks go. Built
// with DOM and CSSOM calls only: the CSP forbids inline style attributes.
// Both are manual popovers, re-shown after every modal dialog opens, so they
// stay above the top layer the dialogs live in.
;(() => {
  const state = { caption: null, title: null, text: null, pointer: null }

  function styled(element, style) {
    Object.assign(element.style, style)
    return element
  }

  function popover(style) {
    const element = document.createElement('div')
    element.setAttribute('popover', 'manual')
    element.setAttribute('aria-hidden', 'true')
    styled(element, {
      margin: '0',
      border: '0',
      padding: '0',
      inset: 'auto',
      overflow: 'visible',
      background: 'transparent',
      ...style,
    })
    document.body.append(element)
    element.showPopover()
    return element
  }

  function install() {
    state.caption = popover({
      left: '50%',
      bottom: '26px',
      transform: 'translateX(-50%)',
      maxWidth: '86vw',
      padding: '10px 18px',
      borderRadius: '10px',
      background: 'rgba(15, 23, 42, 0.92)',
      color: '#f8fafc',
      boxShadow: '0 6px 24px rgba(0, 0, 0, 0.45)',
      outline: '1px solid rgba(148, 163, 184, 0.35)',
      font: '500 17px/1.35 system-ui, sans-serif',
      textAlign: 'center',
      whiteSpace: 'nowrap',
      pointerEvents: 'none',
    })
    state.title = styled(document.createElement('strong'), { color: '#93c5fd', marginRight: '10px' })
    state.text = document.createElement('span')
    state.caption.append(state.title, state.text)
    state.caption.style.visibility = 'hidden'

    state.pointer = popover({ left: '0', top: '0', width: '22px', height: '26px', pointerEvents: 'none' })
    state.pointer.style.visibility = 'hidden'
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
    svg.setAttribute('viewBox', '0 0 22 26')
    svg.setAttribute('width', '22')
    svg.setAttribute('height', '26')
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path')
    path.setAttribute('d', 'M2 2 L2 21 L7 16.5 L10.5 24 L14 22.5 L10.5 15 L17 15 Z')
    path.setAttribute('fill', '#ffffff')
    path.setAttribute('stroke', '#111827')
    path.setAttribute('stroke-width', '1.6')
    path.setAttribute('stroke-linejoin', 'round')
    svg.append(path)
    state.pointer.append(svg)

    window.addEventListener(
      'mousemove',
      (event) => {
        state.pointer.style.visibility = 'visible'
        state.pointer.style.transform = `translate(${event.clientX - 2}px, ${event.clientY - 2}px)`
      },
      true,
    )
    window.addEventListener('mousedown', (event) => ripple(event.clientX, event.clientY), true)

    const showModal = HTMLDialogElement.prototype.showModal
    HTMLDialogElement.prototype.showModal = function (...args) {
      showModal.apply(this, args)
      raise()
    }
  }

  function ripple(x, y) {
    const ring = popover({
      left: `${x - 18}px`,
      top: `${y - 18}px`,
      width: '36px',
      height: '36px',
      borderRadius: '50%',
      background: 'rgba(96, 165, 250, 0.35)',
      outline: '2px solid rgba(96, 165, 250, 0.9)',
      pointerEvents: 'none',
    })
    raise()
    ring
      .animate(
        [
          { transform: 'scale(0.3)', opacity: 1 },
          { transform: 'scale(1.2)', opacity: 0 },
        ],
        {
          duration: 450,
          easing: 'ease-out',
        },
      )
      .finished.then(() => ring.remove())
  }

  function raise() {
    for (const element of [state.caption, state.pointer]) {
      if (!element) continue
      if (element.matches(':popover-open')) element.hidePopover()
      element.showPopover()
    }
  }

  window.__demo = {
    caption(title, text) {
      if (!state.caption) return
      state.title.textContent = title
      state.text.textContent = text
      state.caption.style.visibility = title || text ? 'visible' : 'hidden'
      state.caption.animate([{ opacity: 0.2 }, { opacity: 1 }], { duration: 250 })
    },
    raise,
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', install)
  else install()
})()
