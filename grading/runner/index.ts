/** nbval-ts-runner: run Jupyter notebooks headlessly on the tslab kernel, and check them for regressions. */
export { KernelClient, defaultKernelArgv, tslabBin, tslabPreload, type ExecuteOptions, type ExecuteOutcome, type ExecuteStatus, type KernelOptions, type WrapContext } from './kernel';
export { executeNotebook, SKIP_TAGS, type CellResult, type CellStatus, type ExecuteNotebookOptions, type ExecutionResult, type SkipReason, type StopInfo, type TruncationSummary } from './execute';
export { checkNotebook, compareOutputs, compareText, compareLine, type CellCheck, type CheckOptions, type CheckStatus, type CompareOptions, type RegressionResult } from './regression';
export { DEFAULT_IGNORE_LINES, loadSanitizeFile, parseSanitizeConfig, sanitizeLines, type IgnoreLine, type SanitizeRule } from './sanitize';
export { describeTruncation, executionReport, formatBytes, formatReport, progressLine, regressionReport, type NotebookReport, type CellReportEntry } from './report';
export { readNotebook, parseNotebook, normalizeNotebook, serializeNotebook, writeNotebook, writeFileAtomic, validateNotebookJson, cellTags, NotebookFormatError, type Notebook, type Cell, type CodeCell, type Output } from './nbformat';
export {
  DEFAULT_CELL_BYTES,
  DEFAULT_CELL_LINES,
  DEFAULT_NOTEBOOK_BYTES,
  DisplayRegistry,
  frenchBytes,
  OutputBudget,
  OutputCollector,
  resolveOutputLimits,
  summarizeError,
  truncationNote,
  type ErrorSummary,
  type OutputLimits,
  type OutputTruncation,
  type TruncationReason,
} from './outputs';
export { deserialize, serialize, sign, newMessage, WireError, PROTOCOL_VERSION, type DeserializeOptions, type JupyterMessage, type MessageHeader } from './wire';
export { writeConnectionFile, newConnectionInfo, freePorts, channelAddress, type ConnectionInfo, type ConnectionFile, type Channel } from './connection';
export { KernelChannels, MIN_MESSAGE_BYTES, RECEIVE_BACKLOG_BYTES, RECEIVE_BUFFER_BYTES, socketLimitsFor, type BodyFilter, type ChannelOptions, type SocketLimits, type Waiter } from './channels';
export { describeExit, KernelProcess, type ExitInfo } from './process';
