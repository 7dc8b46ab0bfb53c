// Types of the two functions draw.ts takes from Vega's own packages (vega re-exports them as
// `scale` and `timeFormatLocale`): vega-scale's typings lack `scale`, vega-format has none. A
// script, not a module: its declarations are the packages' types wherever they are imported.

declare module 'vega-scale' {
  /** A scale constructor by type ('linear', 'log', 'utc', ...), as vega's `scale`. */
  export function scale(type: string): unknown;
}

declare module 'vega-format' {
  /** The default time locale (en-US unless set), as vega's `timeFormatLocale` called without a definition. */
  export function timeFormatDefaultLocale(): unknown;
}
