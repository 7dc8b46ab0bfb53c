// The failure budget: once more hosts have failed than the inventory allows, the sweep
// stops starting hosts (running ones finish and keep their results).
import type { FailureBudget } from '../inventory/types.js';

export class FailureBudgetTracker {
  private failed = 0;

  constructor(private readonly budget: FailureBudget | undefined, private readonly totalHosts: number) {}

  /** Records a failed host; true when this failure exceeds the budget. */
  recordFailure(): boolean {
    this.failed++;
    return this.exceeded();
  }

  exceeded(): boolean {
    if (!this.budget) return false;
    const { maxFailedHosts, maxFailedPercent } = this.budget;
    if (maxFailedHosts !== undefined && this.failed > maxFailedHosts) return true;
    if (maxFailedPercent !== undefined && this.totalHosts > 0 && (this.failed / this.totalHosts) * 100 > maxFailedPercent) return true;
    return false;
  }

  get failedHosts(): number {
    return this.failed;
  }

  describe(): string {
    const parts: string[] = [];
    if (this.budget?.maxFailedHosts !== undefined) parts.push(`${this.budget.maxFailedHosts} host(s)`);
    if (this.budget?.maxFailedPercent !== undefined) parts.push(`${this.budget.maxFailedPercent}%`);
    return parts.join(' or ') || 'none';
  }
}
