/**
 * CPU time the hypervisor gave to other machines ("steal" in /proc/stat) while a benchmark ran: on a
 * shared virtual machine, runs that lost more of it are slower for reasons outside the code measured.
 */
import { readFileSync } from 'node:fs';

/** The machine's CPU counters since boot, in clock ticks: all of them and the stolen ones. */
export interface CpuTicks {
  total: number;
  steal: number;
}

/** The counters now, or undefined where /proc/stat is not there (not Linux). */
export function cpuTicks(): CpuTicks | undefined {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((v) => !Number.isFinite(v))) return undefined;
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] };
}

/** "1.2 % of the machine's CPU time went to other virtual machines meanwhile (steal)" since `since`, or '' without counters. */
export function describeSteal(since: CpuTicks | undefined): string {
  const now = cpuTicks();
  if (!since || !now || now.total <= since.total) return '';
  const share = (100 * (now.steal - since.steal)) / (now.total - since.total);
  return `${share.toFixed(1)} % of the machine's CPU time went to other virtual machines meanwhile (steal)`;
}
