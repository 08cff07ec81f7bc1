/**
 * Prints, after Jest's own summary, the slowest test files (to keep `npm test` under its 20-minute
 * budget, one needs to know where the time goes) and the plain closing line
 * "N passed, N failed, N skipped" that CI reads.
 */
const path = require('path');

const SLOWEST_SHOWN = 12;

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const files = results.testResults
      .map((file) => ({
        name: path.relative(process.cwd(), file.testFilePath),
        seconds: (file.perfStats.end - file.perfStats.start) / 1000,
      }))
      .sort((a, b) => b.seconds - a.seconds);
    const total = files.reduce((sum, file) => sum + file.seconds, 0);
    if (files.length > 1) {
      console.log(`\nSlowest test files (${total.toFixed(0)} s in all ${files.length} files):`);
      for (const file of files.slice(0, SLOWEST_SHOWN)) {
        console.log(`  ${file.seconds.toFixed(1).padStart(7)} s  ${file.name}`);
      }
    }
    console.log(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`);
  }
}
module.exports = SummaryReporter;
