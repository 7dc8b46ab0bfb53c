// What a sysinfo job page shows (the scenario's JobPage, loaded only when the report is built):
// how busy the host's CPUs were while sampled, and that figure's mean beside the job in the
// sweeps index.
import { seriesCharts } from '../../site/series-charts.js';
import type { JobPage } from '../types.js';

export const jobPage: JobPage = {
  charts: (job) => seriesCharts((job.metrics?.series ?? []).filter((s) => s.metric === 'host.cpu.busy')),
  headlines: [{ metric: 'host.cpu.busy.mean', label: 'CPU busy' }],
};
