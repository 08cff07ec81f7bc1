/** grades.json, grades.csv and junit.xml: the machine-readable reports of a class run. */
import type { SubmissionGrade } from '../pipeline';
import { CHECK_IDS } from '../spec';

/** What a class run produced, with when and how. */
export interface ClassReport {
  title: string;
  gradedAt: string;
  executed: boolean;
  sandbox: string;
  /** Why that isolation was chosen (French), when known. */
  sandboxReason?: string;
  submissions: SubmissionGrade[];
}

/** grades.json: `{ submissions: [ { id, name, participant, folder, score, maxScore, passed, checks: [...], edition, modelFormat, flags: [...] } ] }` plus run facts (instructor-facing: flags name classmates). */
export function gradesJson(report: ClassReport): string {
  const submissions = report.submissions.map((s) => ({
    id: s.id,
    name: s.name,
    participant: s.participant ?? null,
    folder: s.folder,
    score: s.score,
    maxScore: s.maxScore,
    passed: s.passed,
    checks: s.checks.map(({ id, passed, points, maxPoints, message }) => ({ id, passed, points, maxPoints, message })),
    accuracy: s.accuracy ?? null,
    loss: s.loss ?? null,
    executed: s.executed,
    edition: s.edition ?? 'typescript',
    modelFormat: s.modelFormat ?? null,
    sandbox: s.sandbox,
    durationSeconds: Math.round(s.durationMs / 100) / 10,
    notes: s.notes,
    flags: s.flags.map(({ kind, with: others, message }) => ({ kind, with: others, message })),
    ...(s.internalError ? { internalError: s.internalError } : {}),
  }));
  return `${JSON.stringify({ title: report.title, gradedAt: report.gradedAt, executed: report.executed, sandbox: report.sandbox, sandboxReason: report.sandboxReason ?? null, submissions }, null, 2)}\n`;
}

/** A spreadsheet must not read a name such as `=HYPERLINK(...)` as a formula: text starting with = + - @ gets a leading apostrophe. */
function csvText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function csvField(value: string | number | boolean | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** grades.csv: one row per submission (id, name, participant number), one column per check's points (RFC 4180, UTF-8 with BOM for spreadsheets). */
export function gradesCsv(report: ClassReport): string {
  const header = ['id', 'name', 'participant', 'score', 'maxScore', 'passed', 'accuracy', ...CHECK_IDS];
  const rows = report.submissions.map((s) => [s.id, csvText(s.name), s.participant ?? '', s.score, s.maxScore, s.passed, s.accuracy?.toFixed(4) ?? '', ...CHECK_IDS.map((id) => s.checks.find((c) => c.id === id)?.points ?? 0)]);
  return `\ufeff${[header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** Escapes text for XML attributes and content. */
export function xmlEscape(text: string): string {
  // Characters XML 1.0 forbids (a student's output may hold any) are dropped.
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** junit.xml: one test suite per submission (named by its id; the student's name and participant number as properties), one test case per check (CI dashboards read it). */
export function junitXml(report: ClassReport): string {
  const suites = report.submissions.map((s) => {
    const failures = s.checks.filter((c) => !c.passed).length;
    const cases = s.checks.map((c) => {
      const name = `${c.id} (${c.points}/${c.maxPoints})`;
      const open = `    <testcase classname="${xmlEscape(s.id)}" name="${xmlEscape(name)}" time="0">`;
      return c.passed ? `${open}</testcase>` : `${open}\n      <failure message="${xmlEscape(c.message)}">${xmlEscape(c.message)}</failure>\n    </testcase>`;
    });
    const properties = [['name', s.name], ...(s.participant ? [['participant', s.participant]] : [])].map(([name, value]) => `      <property name="${name}" value="${xmlEscape(value)}"/>`);
    return `  <testsuite name="${xmlEscape(s.id)}" tests="${s.checks.length}" failures="${failures}" errors="${s.internalError ? 1 : 0}" time="${(s.durationMs / 1000).toFixed(1)}">\n    <properties>\n${properties.join('\n')}\n    </properties>\n${cases.join('\n')}\n  </testsuite>`;
  });
  const total = report.submissions.reduce((n, s) => n + s.checks.length, 0);
  const failed = report.submissions.reduce((n, s) => n + s.checks.filter((c) => !c.passed).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlEscape(report.title)}" tests="${total}" failures="${failed}">\n${suites.join('\n')}\n</testsuites>\n`;
}
