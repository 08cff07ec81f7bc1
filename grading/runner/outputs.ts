/** Turning IOPub messages into nbformat outputs, with the same stream, display-update and clear semantics as Jupyter clients. */
import type { DisplayDataOutput, ErrorOutput, ExecuteResultOutput, MimeBundle, Output } from './nbformat';
import type { JupyterMessage } from './wire';

type RichOutput = DisplayDataOutput | ExecuteResultOutput;

/** Caps on what the runner keeps of cell outputs, applied as IOPub messages arrive (like nbgrader's LimitOutput); 1 MB = 10^6 bytes, Infinity turns a cap off. */
export interface OutputLimits {
  /** Lines of text kept per cell, stream text and text/plain together. Default DEFAULT_CELL_LINES. */
  cellLines?: number;
  /** Bytes of output kept per cell: text and data, every mime type. Default DEFAULT_CELL_BYTES. */
  cellBytes?: number;
  /** Bytes of output kept over a whole notebook. Default DEFAULT_NOTEBOOK_BYTES. */
  notebookBytes?: number;
}

/** Default lines of text kept per cell. */
export const DEFAULT_CELL_LINES = 10_000;
/** Default bytes of output kept per cell (1 MB). */
export const DEFAULT_CELL_BYTES = 1_000_000;
/** Default bytes of output kept per notebook (20 MB). */
export const DEFAULT_NOTEBOOK_BYTES = 20_000_000;

/** The limits with every default filled in; throws RangeError on a cap that is not a positive number. */
export function resolveOutputLimits(limits: OutputLimits = {}): Required<OutputLimits> {
  const resolved = {
    cellLines: limits.cellLines ?? DEFAULT_CELL_LINES,
    cellBytes: limits.cellBytes ?? DEFAULT_CELL_BYTES,
    notebookBytes: limits.notebookBytes ?? DEFAULT_NOTEBOOK_BYTES,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!(typeof value === 'number' && value > 0)) throw new RangeError(`outputLimits.${name} must be a positive number (Infinity for no limit), got ${String(value)}`);
  }
  return resolved;
}

/** Which cap made a cell drop output. */
export type TruncationReason = 'cell-lines' | 'cell-bytes' | 'notebook-bytes';

/** What a cell kept and dropped once it reached an output cap. */
export interface OutputTruncation {
  /** The cap reached first. */
  reason: TruncationReason;
  /** Lines of text the cell kept (streams and text/plain). */
  lines: number;
  /** Bytes of output the cell kept. */
  bytes: number;
  /** Bytes dropped (content frames of dropped messages, the cut-off part of the one that crossed the cap); a lower bound when messages were refused. */
  droppedBytes: number;
  /** Output messages dropped, whole or in part. */
  droppedMessages: number;
  /** Of these, messages ZeroMQ refused for exceeding the socket's message cap (each counted as that cap in droppedBytes). */
  refusedMessages: number;
  /** Some dropped output never reached the runner (a refused message, or what the kernel's PUB socket discarded while the runner was behind): the dropped counts are lower bounds. */
  lowerBound: boolean;
}

/** The output budget of one notebook, shared by the collectors of its cells. */
export class OutputBudget {
  /** The caps, defaults filled in. */
  readonly limits: Readonly<Required<OutputLimits>>;
  /** Bytes currently kept over the notebook's cells. */
  keptBytes = 0;
  /** The notebook cap was reached: every later output is dropped. */
  full = false;

  /** A fresh budget; throws RangeError on invalid limits. */
  constructor(limits?: OutputLimits) {
    this.limits = resolveOutputLimits(limits);
  }
}

interface CellUsage {
  bytes: number;
  lines: number;
}

/** What a kept output costs, and whose caps it counts against (a later cell may update it). */
interface KeptSize {
  bytes: number;
  lines: number;
  cell: CellUsage;
  budget: OutputBudget;
}

const keptSizes = new WeakMap<Output, KeptSize>();

/**
 * The outputs that carry a display_id, kept for the whole kernel session: an update_display_data
 * from any later cell rewrites every output shown with that id, in whatever cell it lives.
 */
export class DisplayRegistry {
  private readonly byId = new Map<string, Set<RichOutput>>();

  /** Remembers that `output` was shown with `displayId`. */
  register(displayId: string, output: RichOutput): void {
    let set = this.byId.get(displayId);
    if (!set) this.byId.set(displayId, (set = new Set()));
    set.add(output);
  }

  /** The outputs currently shown with `displayId`. */
  outputsOf(displayId: string): RichOutput[] {
    return [...(this.byId.get(displayId) ?? [])];
  }

  /** Replaces data and metadata of every output shown with `displayId` (no output cap applies); returns how many changed. */
  update(displayId: string, data: MimeBundle, metadata: Record<string, unknown>): number {
    const set = this.byId.get(displayId);
    if (!set) return 0;
    for (const output of set) {
      output.data = data;
      output.metadata = metadata;
    }
    return set.size;
  }

  /** Forgets outputs that were cleared, so later updates do not resurrect them. */
  forget(outputs: Output[]): void {
    const gone = new Set<Output>(outputs);
    for (const set of this.byId.values()) for (const output of set) if (gone.has(output)) set.delete(output);
  }
}

/** The ename/evalue/traceback of an error output or reply. */
export interface ErrorSummary {
  ename: string;
  evalue: string;
  traceback: string[];
}

function displayIdOf(content: Record<string, any>): string | undefined {
  const id = content.transient?.display_id;
  return typeof id === 'string' && id ? id : undefined;
}

const OUTPUT_TYPES = new Set(['stream', 'display_data', 'execute_result', 'update_display_data', 'error', 'clear_output']);
// After a cut, small stream messages are still read for the end of stderr (tslab prints a cell's
// error there), and one small error output is kept: the cell's error summary needs them.
const TAIL_SOURCE_BYTES = 64 * 1024;
const STDERR_TAIL_CHARS = 8 * 1024;
const ERROR_KEEP_BYTES = 64 * 1024;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Index just past the `n`-th newline of `text`, or -1 when it has fewer. */
function afterNthNewline(text: string, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) {
    at = text.indexOf('\n', at + 1);
    if (at < 0) return -1;
  }
  return at + 1;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count++;
  return count;
}

/** The longest prefix of `text` whose UTF-8 form fits in `maxBytes`, never splitting a character. */
function utf8Prefix(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  let head = text.slice(0, maxBytes);
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  const encoded = Buffer.from(head, 'utf8');
  if (encoded.length <= maxBytes) return encoded.toString('utf8');
  let end = maxBytes;
  while (end > 0 && (encoded[end] & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end).toString('utf8');
}

/** A copy of `text` that does not point into a larger string (V8 keeps a slice's parent alive). */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function plainLines(data: MimeBundle): number {
  const plain = data['text/plain'];
  const text = typeof plain === 'string' ? plain : Array.isArray(plain) ? plain.join('') : '';
  if (!text) return 0;
  return countNewlines(text) + (text.endsWith('\n') ? 0 : 1);
}

function contentSize(msg: JupyterMessage): number {
  return msg.contentBytes ?? utf8Bytes(JSON.stringify(msg.content ?? {}));
}

const frenchCount = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

/** `n` bytes for a French reader: octets, ko or Mo (10^3 and 10^6). */
export function frenchBytes(n: number): string {
  if (!Number.isFinite(n)) return 'sans limite';
  if (n < 1000) return `${frenchCount(n)} octet${n >= 2 ? 's' : ''}`;
  const [unit, value] = n < 1e6 ? ['ko', n / 1e3] : ['Mo', n / 1e6];
  return `${Number.isInteger(value) ? frenchCount(value) : value.toFixed(1).replace('.', ',')} ${unit}`;
}

/** The French note a truncated cell shows where its output stops. */
export function truncationNote(t: OutputTruncation, limits: Readonly<Required<OutputLimits>>, messageCapBytes?: number): string {
  const why =
    t.reason === 'cell-lines'
      ? `plus de ${frenchCount(limits.cellLines)} lignes dans cette cellule`
      : t.reason === 'cell-bytes'
        ? `plus de ${frenchBytes(limits.cellBytes)} de sortie dans cette cellule`
        : `plus de ${frenchBytes(limits.notebookBytes)} de sortie dans ce notebook`;
  const messages = `${frenchCount(t.droppedMessages)} message${t.droppedMessages >= 2 ? 's' : ''}`;
  const refused = t.refusedMessages
    ? `, dont ${t.refusedMessages === 1 ? 'un message refusé' : `${frenchCount(t.refusedMessages)} messages refusés`} car plus gros que ${frenchBytes(messageCapBytes ?? 0)}`
    : '';
  return `[sortie tronquée par le correcteur : ${why} ; la suite (${t.lowerBound ? 'au moins ' : ''}${frenchBytes(t.droppedBytes)} en ${messages}${refused}) n’est pas conservée]\n`;
}

/**
 * Collects the outputs of one execute_request from its IOPub messages, in arrival order, within
 * the caps of an OutputBudget: past a cap the rest of the cell's output is dropped (only counted)
 * and one French note, a stderr stream, marks where.
 */
export class OutputCollector {
  private clearPending = false;
  private readonly usage: CellUsage = { bytes: 0, lines: 0 };
  private cut: Omit<OutputTruncation, 'lines' | 'bytes'> | undefined;
  private note: { output_type: 'stream'; name: 'stderr'; text: string } | undefined;
  private stderrTail = '';
  private errorsAfterCut = 0;
  private messageCapBytes = 0;

  /**
   * `outputs` is filled in place (pass a cell's own list so display updates reach it later);
   * `budget` is the notebook's (default: a fresh one with the default limits, for this cell alone).
   */
  constructor(
    private readonly registry: DisplayRegistry,
    readonly outputs: Output[] = [],
    readonly budget: OutputBudget = new OutputBudget(),
  ) {}

  /** How the cell was truncated, or undefined while it is within its caps. */
  get truncation(): OutputTruncation | undefined {
    return this.cut && { ...this.cut, lines: this.usage.lines, bytes: this.usage.bytes };
  }

  /** Bytes of output this cell keeps. */
  get keptBytes(): number {
    return this.usage.bytes;
  }

  /**
   * Whether a message of `msgType` whose content frame is `contentBytes` long is worth parsing:
   * false for output the caps will drop anyway, so a huge payload is never decoded.
   */
  wantsBody(msgType: string, contentBytes: number): boolean {
    if (!OUTPUT_TYPES.has(msgType) || msgType === 'clear_output') return true;
    if (this.cut || this.budget.full) {
      if (msgType === 'stream') return contentBytes <= TAIL_SOURCE_BYTES;
      return msgType === 'error' && contentBytes <= ERROR_KEEP_BYTES && this.errorsAfterCut === 0;
    }
    // A display is kept whole or not at all and costs its content frame, so one that cannot fit is
    // dropped unread (unless a pending clear is about to free room).
    if (msgType === 'display_data' || msgType === 'execute_result') return this.clearPending || contentBytes <= this.bytesLeft().bytes;
    return true;
  }

  /** Applies one IOPub message; returns the output it added (the kept part of a cut stream), else the truncation note it started, if any. */
  handle(msg: JupyterMessage): Output | undefined {
    const content = msg.content ?? {};
    const type = msg.header.msg_type;
    if (msg.bodySkipped) return OUTPUT_TYPES.has(type) && type !== 'clear_output' ? this.drop(msg.contentBytes ?? 0, this.dropReason()) : undefined;
    switch (type) {
      case 'stream':
        return this.stream(content.name === 'stderr' ? 'stderr' : 'stdout', String(content.text ?? ''));
      case 'display_data':
      case 'execute_result':
      case 'update_display_data':
        return this.display(type, content, msg);
      case 'error':
        return this.error(content, contentSize(msg));
      case 'clear_output':
        if (this.cut) return undefined;
        if (content.wait) this.clearPending = true;
        else this.clearNow();
        return undefined;
      default:
        return undefined;
    }
  }

  /** Records a message ZeroMQ refused for being over the socket cap (`capBytes`): it counts as dropped, and ends the cell's kept output. */
  refused(capBytes: number): Output | undefined {
    this.messageCapBytes = capBytes;
    const note = this.drop(capBytes, this.dropReason());
    this.cut!.refusedMessages++;
    this.cut!.lowerBound = true;
    this.updateNote();
    return note;
  }

  /** Some output of a truncated cell never arrived (the kernel's idle status was lost): its dropped counts become lower bounds. */
  outputLost(): void {
    if (!this.cut || this.cut.lowerBound) return;
    this.cut.lowerBound = true;
    this.updateNote();
  }

  /** The outputs to look for the cell's error in: kept outputs without the note, plus the end of the stderr dropped after the cut. */
  errorOutputs(): Output[] {
    const kept = this.outputs.filter((o) => o !== this.note);
    return this.stderrTail ? [...kept, { output_type: 'stream', name: 'stderr', text: this.stderrTail }] : kept;
  }

  /** Why output that cannot be kept now is dropped (only the first drop's reason is recorded). */
  private dropReason(): TruncationReason {
    return this.budget.full ? 'notebook-bytes' : this.bytesLeft().reason;
  }

  private bytesLeft(): { bytes: number; reason: TruncationReason } {
    const { cellBytes, notebookBytes } = this.budget.limits;
    const cell = cellBytes - this.usage.bytes;
    const notebook = notebookBytes - this.budget.keptBytes;
    return notebook < cell ? { bytes: notebook, reason: 'notebook-bytes' } : { bytes: cell, reason: 'cell-bytes' };
  }

  private applyPendingClear(): void {
    if (!this.clearPending) return;
    this.clearPending = false;
    this.clearNow();
  }

  private clearNow(): void {
    for (const output of this.outputs) this.unaccount(output);
    this.registry.forget(this.outputs);
    this.outputs.length = 0;
  }

  private account(output: Output, bytes: number, lines: number): void {
    const size = keptSizes.get(output);
    if (size) {
      size.bytes += bytes;
      size.lines += lines;
    } else {
      keptSizes.set(output, { bytes, lines, cell: this.usage, budget: this.budget });
    }
    this.usage.bytes += bytes;
    this.usage.lines += lines;
    this.budget.keptBytes += bytes;
  }

  private unaccount(output: Output): void {
    const size = keptSizes.get(output);
    if (!size) return;
    keptSizes.delete(output);
    size.cell.bytes -= size.bytes;
    size.cell.lines -= size.lines;
    size.budget.keptBytes -= size.bytes;
  }

  /** Counts a dropped message (or the dropped part of one), starting the cut and its note the first time. */
  private drop(bytes: number, reason: TruncationReason): Output | undefined {
    let started: Output | undefined;
    if (!this.cut) {
      // The output that starts the cut applies a pending clear, as it would have if kept.
      this.applyPendingClear();
      this.cut = { reason, droppedBytes: 0, droppedMessages: 0, refusedMessages: 0, lowerBound: false };
      this.note = { output_type: 'stream', name: 'stderr', text: '' };
      // Pushed as its own output, never merged into a stderr stream before it.
      this.outputs.push(this.note);
      started = this.note;
    }
    if (reason === 'notebook-bytes') this.budget.full = true;
    this.cut.droppedBytes += bytes;
    this.cut.droppedMessages++;
    this.updateNote();
    return started;
  }

  private updateNote(): void {
    if (this.note && this.cut) this.note.text = truncationNote(this.truncation!, this.budget.limits, this.messageCapBytes);
  }

  private push(output: Output, bytes: number, lines: number): void {
    this.applyPendingClear();
    const last = this.outputs[this.outputs.length - 1];
    // Kernels flush stdout in arbitrary chunks; like JupyterLab, show one block per run of a stream.
    if (output.output_type === 'stream' && last?.output_type === 'stream' && last.name === output.name && last !== this.note) {
      last.text += output.text;
      this.account(last, bytes, lines);
      return;
    }
    this.outputs.push(output);
    this.account(output, bytes, lines);
  }

  private stream(name: 'stdout' | 'stderr', text: string): Output | undefined {
    if (this.cut || this.budget.full) {
      if (name === 'stderr') this.keepTail(text);
      return this.drop(utf8Bytes(text), this.dropReason());
    }
    if (!text) {
      const output: Output = { output_type: 'stream', name, text };
      this.push(output, 0, 0);
      return output;
    }
    this.applyPendingClear();
    const linesLeft = this.budget.limits.cellLines - this.usage.lines;
    const left = this.bytesLeft();
    const bytes = utf8Bytes(text);
    // Where each cap cuts the text (in characters); the first cut wins.
    let lineCut = linesLeft <= 0 ? 0 : Number.isFinite(linesLeft) ? afterNthNewline(text, linesLeft) : -1;
    if (lineCut === text.length) lineCut = -1;
    const byteCut = bytes > left.bytes ? utf8Prefix(text, left.bytes).length : -1;
    if (lineCut < 0 && byteCut < 0) {
      const output: Output = { output_type: 'stream', name, text };
      this.push(output, bytes, countNewlines(text));
      return output;
    }
    const byLines = lineCut >= 0 && (byteCut < 0 || lineCut <= byteCut);
    const at = byLines ? lineCut : byteCut;
    const kept = at > 0 ? detached(text.slice(0, at)) : '';
    const keptBytes = utf8Bytes(kept);
    let output: Output | undefined;
    if (kept) {
      output = { output_type: 'stream', name, text: kept };
      this.push(output, keptBytes, countNewlines(kept));
    }
    if (name === 'stderr') this.keepTail(text.slice(Math.max(at, text.length - STDERR_TAIL_CHARS)));
    const note = this.drop(bytes - keptBytes, byLines ? 'cell-lines' : left.reason);
    return output ?? note;
  }

  private keepTail(text: string): void {
    this.stderrTail = detached((this.stderrTail + text).slice(-STDERR_TAIL_CHARS));
  }

  private display(type: 'display_data' | 'execute_result' | 'update_display_data', content: Record<string, any>, msg: JupyterMessage): Output | undefined {
    const size = contentSize(msg);
    if (this.cut || this.budget.full) return this.drop(size, this.dropReason());
    const data: MimeBundle = content.data ?? {};
    const metadata: Record<string, unknown> = content.metadata ?? {};
    const lines = plainLines(data);
    const displayId = displayIdOf(content);
    if (type === 'update_display_data') {
      if (!displayId) return undefined;
      const refusal = this.updateDisplays(displayId, data, metadata, size, lines, false);
      return refusal ? this.drop(size, refusal) : undefined;
    }
    this.applyPendingClear();
    const linesLeft = this.budget.limits.cellLines - this.usage.lines;
    const left = this.bytesLeft();
    // Earlier outputs shown with the same id are updated too; a new output must fit after that.
    const refusal = lines > linesLeft ? 'cell-lines' : size > left.bytes ? left.reason : displayId ? this.updateDisplays(displayId, data, metadata, size, lines, true) : undefined;
    if (refusal) return this.drop(size, refusal);
    if (displayId) this.updateDisplays(displayId, data, metadata, size, lines, false);
    const output: RichOutput =
      type === 'display_data'
        ? { output_type: 'display_data', data, metadata }
        : { output_type: 'execute_result', execution_count: content.execution_count ?? null, data, metadata };
    this.push(output, size, lines);
    if (displayId) this.registry.register(displayId, output);
    return output;
  }

  /**
   * Gives every output shown with `displayId` this data, each charged (or credited) to the cell and
   * notebook that keep it; with `extraBytes/extraLines` for a new output of this cell that must fit too.
   * Returns the cap it would exceed, and then changes nothing; with `checkOnly` never changes anything.
   */
  private updateDisplays(displayId: string, data: MimeBundle, metadata: Record<string, unknown>, bytes: number, lines: number, checkOnly: boolean): TruncationReason | undefined {
    const targets = this.registry.outputsOf(displayId);
    const cells = new Map<CellUsage, { bytes: number; lines: number }>();
    const budgets = new Map<OutputBudget, number>();
    if (checkOnly) {
      cells.set(this.usage, { bytes, lines });
      budgets.set(this.budget, bytes);
    }
    for (const output of targets) {
      const size = keptSizes.get(output);
      if (!size) continue;
      const cell = cells.get(size.cell) ?? { bytes: 0, lines: 0 };
      cell.bytes += bytes - size.bytes;
      cell.lines += lines - size.lines;
      cells.set(size.cell, cell);
      budgets.set(size.budget, (budgets.get(size.budget) ?? 0) + bytes - size.bytes);
    }
    const { cellLines, cellBytes, notebookBytes } = this.budget.limits;
    for (const [cell, delta] of cells) {
      if (delta.lines > 0 && cell.lines + delta.lines > cellLines) return 'cell-lines';
      if (delta.bytes > 0 && cell.bytes + delta.bytes > cellBytes) return 'cell-bytes';
    }
    for (const [budget, delta] of budgets) if (delta > 0 && budget.keptBytes + delta > notebookBytes) return 'notebook-bytes';
    if (checkOnly) return undefined;
    for (const output of targets) {
      output.data = data;
      output.metadata = metadata;
      const size = keptSizes.get(output);
      if (!size) continue;
      size.cell.bytes += bytes - size.bytes;
      size.cell.lines += lines - size.lines;
      size.budget.keptBytes += bytes - size.bytes;
      size.bytes = bytes;
      size.lines = lines;
    }
    return undefined;
  }

  private error(content: Record<string, any>, size: number): Output | undefined {
    const clip = (text: string) => (text.length > ERROR_KEEP_BYTES / 4 ? `${text.slice(0, ERROR_KEEP_BYTES / 4)}…` : text);
    const traceback: string[] = Array.isArray(content.traceback) ? content.traceback.map(String) : [];
    let budget = ERROR_KEEP_BYTES / 2;
    const kept = traceback.filter((line) => (budget -= line.length) >= 0);
    // Errors matter to the student and to the cell's summary: one small error output is kept even
    // past a cap, and none counts against the caps.
    const output: ErrorOutput = { output_type: 'error', ename: clip(String(content.ename ?? '')), evalue: clip(String(content.evalue ?? '')), traceback: kept.length < traceback.length ? [...kept, '…'] : kept };
    if (this.cut || this.budget.full) {
      if (this.errorsAfterCut++ > 0) return this.drop(size, this.dropReason());
      this.outputs.push(output);
      return output;
    }
    this.push(output, 0, 0);
    return output;
  }
}

/**
 * A best guess at what went wrong in a failed execution: the reply's ename/evalue when the kernel
 * sends them, else an error output, else (tslab prints errors to stderr) the first line of stderr
 * that looks like `SomeError: message`.
 */
export function summarizeError(reply: Record<string, any> | undefined, outputs: Output[]): ErrorSummary | undefined {
  if (reply && typeof reply.ename === 'string' && reply.ename) {
    return { ename: reply.ename, evalue: String(reply.evalue ?? ''), traceback: Array.isArray(reply.traceback) ? reply.traceback.map(String) : [] };
  }
  const errorOutput = outputs.find((o): o is ErrorOutput => o.output_type === 'error');
  if (errorOutput) return { ename: errorOutput.ename, evalue: errorOutput.evalue, traceback: errorOutput.traceback };
  const stderr = outputs
    .filter((o) => o.output_type === 'stream' && o.name === 'stderr')
    .map((o) => (o as { text: string }).text)
    .join('');
  if (!stderr.trim()) return undefined;
  const lines = stderr.split('\n').map((l) => l.trimEnd());
  const named = lines.find((l) => /^[\w$.]*(Error|Exception)\b[^:\s]*( \[[^\]]*\])?:/.test(l));
  if (named) {
    const colon = named.indexOf(':');
    return { ename: named.slice(0, colon).replace(/\s*\[.*$/, ''), evalue: named.slice(colon + 1).trim(), traceback: lines };
  }
  // tslab reports TypeScript diagnostics as `line:col - message`.
  const diagnostic = lines.find((l) => /^\S*\s*\d+:\d+ - /.test(l));
  if (diagnostic) return { ename: 'TypeScriptError', evalue: diagnostic.trim(), traceback: lines };
  const first = lines.find((l) => l.trim()) ?? '';
  return { ename: 'Error', evalue: first.trim(), traceback: lines };
}
