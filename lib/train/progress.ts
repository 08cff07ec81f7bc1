/** A Keras-style training progress line, in French, for notebooks (stream text with \r) and terminals. */

/** Formats a duration in seconds as "12 s" or "3 min 05 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds - minutes * 60)).padStart(2, '0')} s`;
}

const LOG_NAMES: Record<string, string> = {
  loss: 'erreur',
  acc: 'précision',
  accuracy: 'précision',
  val_loss: 'val_erreur',
  val_acc: 'val_précision',
  val_accuracy: 'val_précision',
};

/** "erreur 0.3412 - précision 0.8765" from tfjs logs (loss, acc, val_loss, val_acc). */
export function formatLogs(logs: Record<string, number | undefined>): string {
  return Object.entries(logs)
    .filter(([name, value]) => typeof value === 'number' && name in LOG_NAMES)
    .map(([name, value]) => `${LOG_NAMES[name]} ${(value as number).toFixed(4)}`)
    .join(' - ');
}

/** A text progress bar: "[██████······]". */
export function bar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return `[${'█'.repeat(filled)}${'·'.repeat(width - filled)}]`;
}

/** Writes progress to stdout: one line per epoch, redrawn in place with \r at most every `intervalMs`. */
export class ProgressPrinter {
  private lastDraw = 0;
  private epochStarted = 0;

  constructor(
    private readonly epochs: number,
    private readonly batchesPerEpoch: number,
    private readonly intervalMs = 1000,
    private readonly write: (text: string) => void = (text) => void process.stdout.write(text),
  ) {}

  /** Call when an epoch starts (0-based). */
  epochBegin(epoch: number): void {
    this.epochStarted = Date.now();
    this.lastDraw = 0;
    this.write(`Époque ${epoch + 1}/${this.epochs}\n`);
  }

  /** Call after each batch (0-based); redraws only when the interval has passed. */
  batchEnd(batch: number, logs: Record<string, number | undefined>): void {
    const now = Date.now();
    if (now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStarted) / 1000;
    this.write(`\r${batch + 1}/${this.batchesPerEpoch} ${bar(batch + 1, this.batchesPerEpoch)} ${formatDuration(elapsed)} - ${formatLogs(logs)}`);
  }

  /** Call when an epoch ends, with its logs including validation. */
  epochEnd(logs: Record<string, number | undefined>): void {
    const elapsed = (Date.now() - this.epochStarted) / 1000;
    const perStep = (elapsed * 1000) / Math.max(1, this.batchesPerEpoch);
    this.write(
      `\r${this.batchesPerEpoch}/${this.batchesPerEpoch} ${bar(1, 1)} ${formatDuration(elapsed)} ${Math.round(perStep)} ms/pas - ${formatLogs(logs)}\n`,
    );
  }
}
