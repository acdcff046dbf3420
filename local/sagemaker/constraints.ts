// Request constraints from the SageMaker API model, checked the way the service's front end
// checks them: every violation is collected and reported in one ValidationException,
// "N validation errors detected: Value 'x' at 'a.b' failed to satisfy constraint: Member must ...".
// Member paths are camelCase and list members appear as `list.<1-based index>.member`.
import { serializationError, validationError } from './errors';

export type Shape = StringShape | NumberShape | BooleanShape | TimestampShape | ListShape | MapShape | StructureShape;

interface StringShape {
  kind: 'string';
  min?: number;
  max?: number;
  pattern?: string;
  enum?: readonly string[];
}
interface NumberShape {
  kind: 'number';
  min?: number;
  max?: number;
}
interface BooleanShape {
  kind: 'boolean';
}
interface TimestampShape {
  kind: 'timestamp';
}
interface ListShape {
  kind: 'list';
  member: Shape;
  min?: number;
  max?: number;
}
interface MapShape {
  kind: 'map';
  key: Shape;
  value: Shape;
  min?: number;
  max?: number;
}
export interface StructureShape {
  kind: 'structure';
  members: Record<string, Shape>;
  required: readonly string[];
}

export const string = (c: Omit<StringShape, 'kind'> = {}): StringShape => ({ kind: 'string', ...c });
export const number = (c: Omit<NumberShape, 'kind'> = {}): NumberShape => ({ kind: 'number', ...c });
export const boolean = (): BooleanShape => ({ kind: 'boolean' });
export const timestamp = (): TimestampShape => ({ kind: 'timestamp' });
export const list = (member: Shape, c: { min?: number; max?: number } = {}): ListShape => ({ kind: 'list', member, ...c });
export const map = (key: Shape, value: Shape, c: { min?: number; max?: number } = {}): MapShape => ({
  kind: 'map',
  key,
  value,
  ...c,
});
export const structure = (members: Record<string, Shape>, required: readonly string[] = []): StructureShape => ({
  kind: 'structure',
  members,
  required,
});
export const enumOf = (values: Record<string, string> | readonly string[]): StringShape =>
  string({ enum: Array.isArray(values) ? values : Object.values(values) });

const compiled = new Map<string, RegExp>();
function fullMatch(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    // The model's patterns are matched against the whole value (Java's String.matches).
    const body = pattern.replace(/^\^/, '').replace(/\$$/, '');
    re = new RegExp(`^(?:${body})$`, 'u');
    compiled.set(pattern, re);
  }
  return re;
}

function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function camel(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/** Checks the shape; a value of the wrong JSON type is a serialization error, as in the real service. */
function collect(shape: Shape, value: unknown, path: string, out: string[]): void {
  const fail = (constraint: string) =>
    out.push(`Value ${value === null ? 'null' : `'${shown(value)}'`} at '${path}' failed to satisfy constraint: ${constraint}`);
  switch (shape.kind) {
    case 'string': {
      if (typeof value !== 'string') throw serializationError(`Expected a string at '${path}'`);
      if (shape.enum && !shape.enum.includes(value)) {
        fail(`Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
        return;
      }
      const length = [...value].length;
      if (shape.max !== undefined && length > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
      if (shape.min !== undefined && length < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
      if (shape.pattern && !fullMatch(shape.pattern).test(value)) fail(`Member must satisfy regular expression pattern: ${shape.pattern}`);
      return;
    }
    case 'number': {
      if (typeof value !== 'number' || Number.isNaN(value)) throw serializationError(`Expected a number at '${path}'`);
      if (shape.max !== undefined && value > shape.max) fail(`Member must have value less than or equal to ${shape.max}`);
      if (shape.min !== undefined && value < shape.min) fail(`Member must have value greater than or equal to ${shape.min}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw serializationError(`Expected a boolean at '${path}'`);
      return;
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string') throw serializationError(`Expected a timestamp at '${path}'`);
      return;
    case 'list': {
      if (!Array.isArray(value)) throw serializationError(`Expected a list at '${path}'`);
      if (shape.max !== undefined && value.length > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
      if (shape.min !== undefined && value.length < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
      value.forEach((item, i) => {
        const itemPath = `${path}.${i + 1}.member`;
        if (item === null || item === undefined) out.push(`Value null at '${itemPath}' failed to satisfy constraint: Member must not be null`);
        else collect(shape.member, item, itemPath, out);
      });
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serializationError(`Expected a map at '${path}'`);
      const entries = Object.entries(value);
      if (shape.max !== undefined && entries.length > shape.max) fail(`Member must have length less than or equal to ${shape.max}`);
      if (shape.min !== undefined && entries.length < shape.min) fail(`Member must have length greater than or equal to ${shape.min}`);
      const keyProblems = new Set<string>();
      const valueProblems = new Set<string>();
      for (const [k, v] of entries) {
        const keyOut: string[] = [];
        collect(shape.key, k, path, keyOut);
        keyOut.forEach((m) => keyProblems.add(m.replace(/^.*failed to satisfy constraint: /, '')));
        const valueOut: string[] = [];
        if (v === null || v === undefined) valueProblems.add('Member must not be null');
        else collect(shape.value, v, path, valueOut);
        valueOut.forEach((m) => valueProblems.add(m.replace(/^.*failed to satisfy constraint: /, '')));
      }
      if (keyProblems.size) fail(`Map keys must satisfy constraint: [${[...keyProblems].join(', ')}]`);
      if (valueProblems.size) fail(`Map value must satisfy constraint: [${[...valueProblems].join(', ')}]`);
      return;
    }
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serializationError(`Expected a structure at '${path}'`);
      const record = value as Record<string, unknown>;
      for (const [member, memberShape] of Object.entries(shape.members)) {
        const memberPath = path ? `${path}.${camel(member)}` : camel(member);
        const memberValue = record[member];
        if (memberValue === undefined || memberValue === null) {
          if (shape.required.includes(member)) out.push(`Value null at '${memberPath}' failed to satisfy constraint: Member must not be null`);
          continue;
        }
        collect(memberShape, memberValue, memberPath, out);
      }
      return;
    }
  }
}

export function validationProblems(shape: StructureShape, input: unknown): string[] {
  const out: string[] = [];
  collect(shape, input ?? {}, '', out);
  return out;
}

/** Throws the service's ValidationException when the request breaks any modelled constraint. */
export function assertValid(shape: StructureShape, input: unknown): void {
  const problems = validationProblems(shape, input);
  if (problems.length === 0) return;
  const count = problems.length === 1 ? '1 validation error detected' : `${problems.length} validation errors detected`;
  throw validationError(`${count}: ${problems.join('; ')}`);
}
