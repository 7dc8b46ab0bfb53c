// Shared types of the QASET log parsers.
import type { MetricSample } from '../results/metrics.js';

export interface ParseResult {
  benchmark: string;
  samples: MetricSample[];
  /** Why nothing (or not everything) could be read; set when samples is empty. */
  unparsed?: string;
  /** Things worth knowing that are not failures (e.g. bonnie++ "+++++" fields). */
  notes?: string[];
}

export interface OutputParser {
  /** Benchmark name, also the metric prefix. */
  benchmark: string;
  /** Matches a test name or file base name that is this benchmark's output. */
  name: RegExp;
  /** Cheap content check, used when the name says nothing. */
  sniff(text: string): boolean;
  parse(text: string, source: string): ParseResult;
}
