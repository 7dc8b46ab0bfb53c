// The summary line at the top of a midolman job page: the figures a reader looks for first, each
// with a short label and, where it helps, how it was obtained (shown on hover and to screen readers).
import { formatNanoseconds, formatRate, formatValue } from '../../site/format.js';
import type { JobPageInput, SummaryItem } from '../types.js';
import { midolmanResults, type MidolmanResults } from './page-results.js';

/** A loss fraction as a percentage; a no-break space keeps "%" with its number. */
const lossText = (fraction: number) => `${Number((fraction * 100).toPrecision(3))}\u00a0%`;

function losslessItem(r: MidolmanResults): SummaryItem {
  const l = r.losslessMax;
  if (!l) return { label: 'Lossless max', value: '—', detail: 'no throughput scan' };
  const within = `loss ≤ ${lossText(l.lossThreshold)}`;
  if (l.pps <= 0) return { label: 'Lossless max', value: 'none', detail: `no step had ${within}` };
  return { label: 'Lossless max', value: formatRate(l.pps), detail: within };
}

function ndrItem(r: MidolmanResults): SummaryItem {
  const n = r.ndr;
  if (!n) return { label: 'NDR', value: '—', detail: 'not searched (linear scan)' };
  if (!n.found) return { label: 'NDR', value: 'not found', detail: `every trial lost > ${lossText(n.lossThreshold)}` };
  return { label: 'NDR', value: formatRate(n.pps), detail: `search, loss ≤ ${lossText(n.lossThreshold)}` };
}

function atText(r: MidolmanResults): string {
  return r.reference?.at === 'ndr' ? 'at NDR' : 'at lossless max';
}

/** Three significant digits: 2.75, 12.3, 456. */
const sig3 = (v: number) => Number(v.toPrecision(3)).toLocaleString('en-US');

export function midolmanSummary(job: JobPageInput): SummaryItem[] {
  const r = midolmanResults(job.metrics);
  const ref = r.reference?.row;
  const items: SummaryItem[] = [losslessItem(r), ndrItem(r)];
  items.push(
    ref && ref.p99 !== undefined
      ? { label: `p99 latency ${atText(r)}`, value: formatNanoseconds(ref.p99), detail: `one-way; p50 ${formatNanoseconds(ref.p50)}` }
      : { label: 'p99 latency', value: '—', detail: 'no NDR or lossless step' },
  );
  items.push(
    r.cpuPerKpps !== undefined && ref
      ? {
          label: `Agent CPU/kpps ${atText(r)}`,
          value: `${sig3(r.cpuPerKpps)} %`,
          detail: `${sig3(ref.agentCpu!)} % CPU at ${formatRate(ref.delivered)}`,
        }
      : { label: 'Agent CPU/kpps', value: '—', detail: 'no agent CPU at an NDR or lossless step' },
  );
  // A datapath that sets up flows (ovs_* topologies): the rate it sustained at the reference step.
  if (ref?.flowSetup !== undefined) {
    items.push({
      label: `Flow setup ${atText(r)}`,
      value: `${sig3(ref.flowSetup)} flows/s`,
      detail: `new datapath flows per second${ref.dpFlows === undefined ? '' : `; ${sig3(ref.dpFlows)} flows at the burst's end`}`,
    });
  }
  items.push({ label: 'Peak RSS', value: r.peakRssBytes === undefined ? '—' : formatValue(r.peakRssBytes, 'bytes'), detail: 'agent, /proc' });
  items.push({ label: 'Peak heap', value: r.peakHeapBytes === undefined ? '—' : formatValue(r.peakHeapBytes, 'bytes'), detail: 'heap used, JMX' });
  const build = job.manifest?.build;
  items.push(
    build
      ? { label: 'Build', value: build.label, long: true, wide: true }
      : { label: 'Build', value: 'not recorded', detail: 'no build was proven' },
  );
  items.push({ label: 'Profile', value: job.manifest?.profile ?? '—', long: true });
  return items;
}
