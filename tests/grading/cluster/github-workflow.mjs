// Parses a GitHub Actions workflow with GitHub's own parser (@actions/workflow-parser) and prints
// {errors, jobs} as JSON. Run with `node --import tsx` (the parser imports its JSON schema without
// an import attribute, which tsx's loader accepts).
import { readFileSync } from 'node:fs';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';

const file = process.argv[2];
const parsed = parseWorkflow({ name: file, content: readFileSync(file, 'utf8') }, new NoOperationTraceWriter());
const errors = parsed.context.errors.getErrors().map((e) => e.message);
const template = parsed.value ? await convertWorkflowTemplate(parsed.context, parsed.value) : { jobs: [] };
const errorsAfter = [...(template.errors ?? []).map((e) => e.Message)];
console.log(JSON.stringify({ errors: [...errors, ...errorsAfter], template }));
