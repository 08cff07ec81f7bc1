/** Small console reporter shared by the set-up steps: numbered steps, notes and a progress bar. */

const isTty = Boolean(process.stdout.isTTY);

/** Prints a titled set-up step, e.g. "[analyse-image] Données Fashion-MNIST". */
export function step(title: string): void {
  console.log(`\n[analyse-image] ${title}`);
}

/** Prints an informative line under the current step. */
export function info(message: string): void {
  console.log(`  ${message}`);
}

/** Prints a warning line under the current step. */
export function warn(message: string): void {
  console.warn(`  ! ${message}`);
}

/** A progress reporter: call with the amount done; it redraws in place on a terminal and prints every 25 % otherwise. */
export function progress(label: string, total: number): (done: number) => void {
  let lastQuarter = -1;
  let lastDraw = 0;
  return (done: number) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    if (isTty) {
      const now = Date.now();
      if (ratio < 1 && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round(ratio * width);
      process.stdout.write(`\r  ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(ratio * 100)} %`);
      if (ratio >= 1) process.stdout.write('\n');
    } else {
      const quarter = Math.floor(ratio * 4);
      if (quarter > lastQuarter) {
        lastQuarter = quarter;
        console.log(`  ${label}: ${quarter * 25} %`);
      }
    }
  };
}
