/**
 * A DOM for react-dom in Node (happy-dom), and a small harness: render a
 * component, let React take in what a Kadmium subscription reported.
 * @module
 */
import { Window } from 'happy-dom'
import { act, createElement, type FunctionComponent } from 'react'
import { createRoot, type Root } from 'react-dom/client'

const window = new Window()
Object.assign(globalThis, {
  window,
  document: window.document,
  HTMLElement: window.HTMLElement,
  HTMLIFrameElement: window.HTMLIFrameElement,
  IS_REACT_ACT_ENVIRONMENT: true
})

/** A component mounted in a fresh container. */
export interface Mounted<P> {
  /** Renders the component again with new props (from its parent). */
  readonly rerender: (props: P) => Promise<void>
  readonly unmount: () => Promise<void>
}

/** Mounts `component` with `props`, inside `act`. */
export async function mount<P extends object> (component: FunctionComponent<P>, props: P): Promise<Mounted<P>> {
  const container = window.document.createElement('div')
  let root: Root | undefined
  await act(async () => {
    root = createRoot(container as unknown as Element)
    root.render(createElement(component, props))
  })
  return {
    rerender: async (next) => { await act(async () => { root?.render(createElement(component, next)) }) },
    unmount: async () => { await act(async () => { root?.unmount() }) }
  }
}

/** Lets React and Kadmium run for `ms` (subscriptions report in microtasks and storage callbacks). */
export async function settle (ms = 20): Promise<void> {
  await act(async () => { await new Promise((resolve) => setTimeout(resolve, ms)) })
}

/** Waits (inside `act`) until `condition` holds; fails after `timeout` ms. */
export async function waitFor (condition: () => boolean, timeout = 5000): Promise<void> {
  const end = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > end) throw new Error('waitFor: timed out')
    await settle(5)
  }
}

/** Runs a write inside `act`, so that the renders it causes are React's to expect. */
export async function write<R> (operation: () => Promise<R>): Promise<R> {
  return await act(operation)
}
