// Per-metric thresholds from the inventory's regressions: section.
//
// Rule: a metric name takes the most specific matching entry of `metrics` — an exact name (no
// '*') beats any glob; among globs, the one with the most characters besides '*' wins; equal
// ones go to the first written. Fields that entry leaves unset come from `default`, then from
// DEFAULT_THRESHOLDS. Entries never merge with each other.
import type { RegressionConfig, RegressionThresholdSettings } from '../inventory/types.js';
import { metricGlobMatcher, specificity } from './glob.js';
import type { SeriesKey } from './history.js';
import { DEFAULT_THRESHOLDS } from './regressions.js';
import type { Thresholds } from './regressions.js';

function withSettings(base: Thresholds, settings: RegressionThresholdSettings | undefined): Thresholds {
  return {
    minRelativeChange: settings?.minRelativeChange ?? base.minRelativeChange,
    pValue: settings?.pValue ?? base.pValue,
    window: settings?.window ?? base.window,
    persistence: settings?.persistence ?? base.persistence,
    noiseFactor: settings?.noiseFactor ?? base.noiseFactor,
  };
}

export function thresholdsResolver(config: RegressionConfig | undefined): (key: SeriesKey) => Thresholds {
  const base = withSettings(DEFAULT_THRESHOLDS, config?.default);
  const rules = (config?.metrics ?? [])
    .map((rule, order) => ({
      matches: metricGlobMatcher(rule.pattern),
      rank: specificity(rule.pattern),
      order,
      thresholds: Object.freeze(withSettings(base, rule.thresholds)),
    }))
    .sort((p, q) => q.rank - p.rank || p.order - q.order);
  const frozenBase = Object.freeze(base);
  const byMetric = new Map<string, Thresholds>();
  return (key) => {
    let found = byMetric.get(key.metric);
    if (!found) {
      found = rules.find((rule) => rule.matches(key.metric))?.thresholds ?? frozenBase;
      byMetric.set(key.metric, found);
    }
    return { ...found };
  };
}
