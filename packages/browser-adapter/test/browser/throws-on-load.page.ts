/** A page whose script throws while it loads, before exposing anything. */
export {}

throw new Error('this page is broken on purpose')
