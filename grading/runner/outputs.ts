/** Turning IOPub messages into nbformat outputs, with the same stream, display-update and clear semantics as Jupyter clients. */
import type { DisplayDataOutput, ErrorOutput, ExecuteResultOutput, MimeBundle, Output } from './nbformat';
import type { JupyterMessage } from './wire';

type RichOutput = DisplayDataOutput | ExecuteResultOutput;

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

  /** Replaces data and metadata of every output shown with `displayId`; returns how many changed. */
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

/** Collects the outputs of one execute_request from its IOPub messages, in arrival order. */
export class OutputCollector {
  private clearPending = false;

  /** `outputs` is filled in place (pass a cell's own list so display updates reach it later). */
  constructor(
    private readonly registry: DisplayRegistry,
    readonly outputs: Output[] = [],
  ) {}

  private clearNow(): void {
    this.registry.forget(this.outputs);
    this.outputs.length = 0;
  }

  private push(output: Output): void {
    if (this.clearPending) {
      this.clearPending = false;
      this.clearNow();
    }
    const last = this.outputs[this.outputs.length - 1];
    // Kernels flush stdout in arbitrary chunks; like JupyterLab, show one block per run of a stream.
    if (output.output_type === 'stream' && last?.output_type === 'stream' && last.name === output.name) {
      last.text += output.text;
      return;
    }
    this.outputs.push(output);
  }

  /** Applies one IOPub message; returns the output it added, if any. */
  handle(msg: JupyterMessage): Output | undefined {
    const content = msg.content ?? {};
    const type = msg.header.msg_type;
    const displayId = displayIdOf(content);
    if (displayId && (type === 'display_data' || type === 'execute_result' || type === 'update_display_data')) {
      this.registry.update(displayId, content.data ?? {}, content.metadata ?? {});
    }
    switch (type) {
      case 'stream': {
        const output: Output = { output_type: 'stream', name: content.name === 'stderr' ? 'stderr' : 'stdout', text: String(content.text ?? '') };
        this.push(output);
        return output;
      }
      case 'display_data':
      case 'execute_result': {
        const output: RichOutput =
          type === 'display_data'
            ? { output_type: 'display_data', data: content.data ?? {}, metadata: content.metadata ?? {} }
            : { output_type: 'execute_result', execution_count: content.execution_count ?? null, data: content.data ?? {}, metadata: content.metadata ?? {} };
        this.push(output);
        if (displayId) this.registry.register(displayId, output);
        return output;
      }
      case 'error': {
        const output: ErrorOutput = { output_type: 'error', ename: String(content.ename ?? ''), evalue: String(content.evalue ?? ''), traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [] };
        this.push(output);
        return output;
      }
      case 'clear_output':
        if (content.wait) this.clearPending = true;
        else this.clearNow();
        return undefined;
      default:
        return undefined;
    }
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
