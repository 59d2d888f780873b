/**
 * The rules every Dockerfile is held to before its build starts, generated ones included. An
 * upload is treated as hostile: its Dockerfile must not read or pose as another project's images,
 * nor make the engine fetch from the network outside the build network's firewall.
 *
 * dockerfile-ast finds the instructions (parser directives, `# escape=`, line continuations,
 * comments, flags, LABEL pairs); the words the rules look at are then read from the source text
 * the way the engine reads them (dockerfile-words.ts), so an escape or a quote cannot make the
 * check and the engine see different names.
 *
 * Every reference to a `slipway/…` image is refused, the project's own included: a build never
 * needs an earlier release of its project (it has the source), and refusing them all needs no
 * notion of which project is building, so no bug in that notion can open a hole.
 */
import type { Flag, Instruction, Property } from 'dockerfile-ast';
import { dockerfileAst } from '../lazy-libraries.ts';
import { DockerfileRefused } from '../deployments/failures.ts';
import { bareWord, expandWord, UnreadableWord } from './dockerfile-words.ts';
import { isImageId, isReleaseImage } from './image-refs.ts';
import { LABEL_PREFIX } from '../runtime/labels.ts';
import { SourceText } from './source-text.ts';

/** An image the build would use, by the reference the engine will look up. */
export interface ImageUse {
  /** 1-based line of the instruction. */
  line: number;
  /** How it is used: `FROM`, `COPY --from`, `ADD --from` or `RUN --mount from`. */
  how: string;
  ref: string;
}

/** What the check learnt: the images (not stages) the build starts from or copies from. */
export interface CheckedDockerfile {
  images: ImageUse[];
  /** The subset of `images` that FROM instructions start stages from. */
  bases: ImageUse[];
}

interface Scope {
  source: SourceText;
  escape: string;
  /** ARGs declared before the first FROM, with their defaults (no build args are ever passed). */
  meta: Map<string, string>;
  /** Stage names (lower case) or null for unnamed ones, in order. */
  stages: (string | null)[];
  images: ImageUse[];
  bases: ImageUse[];
  refuse: (line: number, reason: string) => DockerfileRefused;
}

/** Checks `text` (the Dockerfile at `path`); throws DockerfileRefused naming the line and the rule. */
export function checkDockerfile(text: string, path: string): CheckedDockerfile {
  const body = text.replace(/^\uFEFF/, ''); // the engine skips a byte order mark
  const dockerfile = dockerfileAst().DockerfileParser.parse(body);
  const scope: Scope = {
    source: new SourceText(body, dockerfile.getEscapeCharacter()),
    escape: dockerfile.getEscapeCharacter(),
    meta: new Map(),
    stages: [],
    images: [],
    bases: [],
    refuse: (line, reason) => new DockerfileRefused(path, line, reason),
  };
  for (const instruction of dockerfile.getInstructions()) check(instruction, scope, false);
  return { images: scope.images, bases: scope.bases };
}

function check(instruction: Instruction, scope: Scope, trigger: boolean): void {
  const line = instruction.getRange().start.line + 1;
  // getHeredocs is public on RUN, COPY and ADD only.
  const heredocs = (instruction as unknown as { getHeredocs?: () => unknown[] }).getHeredocs?.() ?? [];
  if (heredocs.length > 0) {
    throw scope.refuse(
      line,
      "heredocs (<<EOF) are not supported: the engine's classic builder would read their lines as instructions",
    );
  }
  switch (instruction.getKeyword()) {
    case 'ARG':
      if (scope.stages.length === 0 && !trigger) metaArgs(instruction, line, scope);
      return;
    case 'FROM':
      if (!trigger) from(instruction, line, scope);
      return;
    case 'COPY':
      fromFlags(instruction, line, scope, 'COPY', trigger);
      return;
    case 'ADD':
      fromFlags(instruction, line, scope, 'ADD', trigger);
      addSources(instruction, line, scope);
      return;
    case 'RUN':
      mountSources(instruction, line, scope, trigger);
      return;
    case 'LABEL':
      for (const p of properties(instruction)) labelKey(p, line, scope);
      return;
    case 'ONBUILD': {
      // Triggers run in builds FROM this image, which Slipway never allows; checked all the same.
      const inner = (instruction as { getTriggerInstruction?: () => Instruction | null }).getTriggerInstruction?.();
      if (inner) check(inner, scope, true);
      return;
    }
  }
}

function metaArgs(instruction: Instruction, line: number, scope: Scope): void {
  for (const p of properties(instruction)) {
    const name = scope.source.of(p.getNameRange());
    const range = p.getValueRange();
    if (p.getAssignmentOperator() === null || range === null) {
      scope.meta.delete(name); // declared without a default: unset, as the engine has it
      continue;
    }
    const raw = scope.source.of(range);
    scope.meta.set(name, expand(raw, scope, line, `ARG ${name}=${shown(raw)}`));
  }
}

function from(instruction: Instruction, line: number, scope: Scope): void {
  const args = instruction.getArguments();
  if (args.length === 0) return; // the engine refuses it
  const raw = scope.source.of(args[0]!.getRange());
  const ref = expand(raw, scope, line, `FROM ${shown(raw)}`);
  const name = args.length >= 3 && /^as$/i.test(args[1]!.getValue()) ? args[2]!.getValue().toLowerCase() : null;
  // The engine refuses other stage names, so `AS slipway/b:1` never makes `--from=slipway/b:1` a stage.
  const stage = name !== null && /^[a-z][a-z0-9-_.]*$/.test(name) ? name : null;
  const lower = ref.toLowerCase();
  if (lower !== 'scratch' && !scope.stages.includes(lower)) {
    const use = image(ref, raw, line, 'FROM', scope, 'start');
    scope.images.push(use);
    scope.bases.push(use);
  }
  scope.stages.push(stage);
}

function fromFlags(instruction: Instruction, line: number, scope: Scope, keyword: string, trigger: boolean): void {
  for (const flag of flags(instruction)) {
    if (flag.getName().toLowerCase() !== 'from') continue;
    const raw = flagValue(flag, scope);
    stageOrImage(raw, line, `${keyword} --from`, scope, trigger);
  }
}

function mountSources(instruction: Instruction, line: number, scope: Scope, trigger: boolean): void {
  for (const flag of flags(instruction)) {
    if (flag.getName().toLowerCase() !== 'mount') continue;
    for (const field of flagValue(flag, scope).split(',')) {
      const eq = field.indexOf('=');
      if (eq !== -1 && bareWord(field.slice(0, eq), scope.escape).trim() === 'from') {
        stageOrImage(field.slice(eq + 1), line, 'RUN --mount from', scope, trigger);
      }
    }
  }
}

// A --from names an earlier stage (by name or index) or else an image. The classic builder does
// not expand variables in flags, so a `$` there is refused rather than interpreted.
function stageOrImage(raw: string, line: number, how: string, scope: Scope, trigger: boolean): void {
  if (raw.includes('$'))
    throw scope.refuse(line, `${how}=${shown(raw)} uses a variable; name the stage or image itself`);
  const value = flagWord(raw);
  const lower = value.toLowerCase();
  if (scope.stages.includes(lower)) return;
  if (/^\d+$/.test(value)) return; // a stage index, even out of range (then the engine refuses it)
  const use = image(value, raw, line, how, scope, 'copy');
  if (!trigger) scope.images.push(use);
}

function image(ref: string, raw: string, line: number, how: string, scope: Scope, verb: 'start' | 'copy'): ImageUse {
  const what = `${how}${how === 'FROM' ? ' ' : '='}${shown(raw)}`;
  const allowed = verb === 'start' ? 'start only from public images' : 'copy only from public images or earlier stages';
  if (isReleaseImage(ref) || isReleaseImage(bareWord(raw, scope.escape))) {
    throw scope.refuse(line, `${what} names a Slipway release image; builds may ${allowed}`);
  }
  if (isImageId(ref)) throw scope.refuse(line, `${what} names an image by ID; name it by repository and tag`);
  return { line, how, ref };
}

function addSources(instruction: Instruction, line: number, scope: Scope): void {
  for (const raw of addSourceWords(instruction, scope)) {
    if (raw.includes('$')) {
      throw scope.refuse(
        line,
        `ADD ${shown(raw)} uses a variable, which could name a URL; use COPY for files of the upload`,
      );
    }
    const bare = bareWord(raw, scope.escape);
    if (/^[a-z][a-z0-9+.-]*:\/\//.test(bare) || bare.startsWith('git@')) {
      throw scope.refuse(
        line,
        `ADD ${shown(raw)} fetches a remote source, which the engine does outside the build network's rules; fetch it in a RUN step instead`,
      );
    }
  }
}

// ADD's sources: every argument but the destination, in JSON form when the arguments parse as a
// JSON array of strings (as the engine decides), else the whitespace-separated words.
function addSourceWords(instruction: Instruction, scope: Scope): string[] {
  const args = instruction.getArguments();
  if (args.length === 0) return [];
  const all = scope.source.of({ start: args[0]!.getRange().start, end: args.at(-1)!.getRange().end });
  if (all.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(all);
      if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) return parsed.slice(0, -1);
    } catch {
      // not JSON: the engine reads it as words too
    }
  }
  return args.slice(0, -1).map((a) => scope.source.of(a.getRange()));
}

function labelKey(p: Property, line: number, scope: Scope): void {
  const raw = scope.source.of(p.getNameRange());
  if (raw.includes('$')) throw scope.refuse(line, `LABEL ${shown(raw)} uses a variable in its key`);
  if (bareWord(raw, scope.escape).startsWith(LABEL_PREFIX)) {
    throw scope.refuse(line, `LABEL ${shown(raw)} sets a Slipway label; only Slipway sets those`);
  }
}

/** A word of the Dockerfile as written, control characters escaped so that the reason stays one line. */
function shown(raw: string): string {
  return raw.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function expand(raw: string, scope: Scope, line: number, what: string): string {
  try {
    return expandWord(raw, scope.meta, scope.escape);
  } catch (err) {
    if (err instanceof UnreadableWord) throw scope.refuse(line, `${what} ${err.message}, which Slipway cannot check`);
    throw err;
  }
}

// Flag values as the engine's flag parser reads them: quotes removed, backslash escapes applied
// (always a backslash there, whatever the escape directive says).
function flagWord(raw: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote === null && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = null;
    else if (c === '\\') out += raw[++i] ?? '';
    else out += c;
  }
  return out;
}

function flagValue(flag: Flag, scope: Scope): string {
  const range = flag.getValueRange();
  return range === null ? '' : scope.source.of(range);
}

function flags(instruction: Instruction): Flag[] {
  return (instruction as { getFlags?: () => Flag[] }).getFlags?.() ?? [];
}

function properties(instruction: Instruction): Property[] {
  return (instruction as { getProperties?: () => Property[] }).getProperties?.() ?? [];
}
