// `node --import tsx bench/local-s3-process.ts <directory> <bucket>...`: the local S3 (s3rver) on its
// own, for one measured bench run. It prints one JSON line, {endpoint, accessKeyId, secretAccessKey},
// once it accepts requests, and stops when its stdin closes (the bench parent ending it or exiting).
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from '../local/s3';

async function main(): Promise<void> {
  const [directory, ...buckets] = process.argv.slice(2);
  if (!directory) throw new Error('usage: local-s3-process.ts <directory> <bucket>...');
  const server = await startLocalS3({ directory, buckets });
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, ...LOCAL_S3_CREDENTIALS })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`local-s3-process: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
