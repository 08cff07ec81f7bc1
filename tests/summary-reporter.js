/** Prints the plain closing line "N passed, N failed, N skipped" that CI reads, after Jest's own summary. */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    console.log(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`);
  }
}
module.exports = SummaryReporter;
