// AddTags / ListTags / DeleteTags on any resource ARN this server issued.
import type { AddTagsInput, AddTagsOutput, DeleteTagsInput, ListTagsInput, ListTagsOutput, Tag } from '@aws-sdk/client-sagemaker';
import { assertValid } from './constraints';
import type { ServiceContext } from './context';
import { validationError } from './errors';
import * as shapes from './shapes';

export class TaggingService {
  constructor(private readonly ctx: ServiceContext) {}

  addTags(input: AddTagsInput): AddTagsOutput {
    assertValid(shapes.AddTags, input);
    const merged = new Map((this.ctx.store.tags.get(input.ResourceArn!) ?? []).map((t) => [t.Key!, t] as const));
    for (const tag of input.Tags ?? []) merged.set(tag.Key!, { Key: tag.Key, Value: tag.Value });
    if (merged.size > 50) throw validationError('Exceeded the maximum number of tags (50) for the resource.');
    const tags: Tag[] = [...merged.values()];
    this.ctx.store.tags.set(input.ResourceArn!, tags);
    return { Tags: input.Tags };
  }

  listTags(input: ListTagsInput): ListTagsOutput {
    assertValid(shapes.ListTags, input);
    const tags = this.ctx.store.tags.get(input.ResourceArn!) ?? [];
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw validationError('Invalid pagination token. Please provide a valid pagination token.');
    const size = input.MaxResults ?? 50;
    return { Tags: tags.slice(offset, offset + size), NextToken: offset + size < tags.length ? String(offset + size) : undefined };
  }

  deleteTags(input: DeleteTagsInput): Record<string, never> {
    assertValid(shapes.DeleteTags, input);
    const remove = new Set(input.TagKeys);
    const kept = (this.ctx.store.tags.get(input.ResourceArn!) ?? []).filter((t) => !remove.has(t.Key!));
    this.ctx.store.tags.set(input.ResourceArn!, kept);
    return {};
  }
}
