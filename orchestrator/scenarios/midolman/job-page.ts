// What a midolman job page shows (the scenario's JobPage, loaded only when the report is built):
// the summary line (page-summary.ts), the story charts and every other series (page-charts.ts),
// both read from the job's per-step results (page-results.ts); and the sweeps index's headline
// numbers, the lossless maximum and the NDR.
import type { JobPage } from '../types.js';
import { midolmanJobCharts } from './page-charts.js';
import { midolmanSummary } from './page-summary.js';

export const jobPage: JobPage = {
  charts: midolmanJobCharts,
  summary: midolmanSummary,
  headlines: [
    { metric: 'throughput.lossless_max', label: 'lossless' },
    { metric: 'throughput.ndr', label: 'NDR' },
  ],
};
