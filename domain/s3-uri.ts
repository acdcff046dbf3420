/** An s3://bucket[/key or prefix] URI: the bucket is group 1, the rest (with its leading slash) group 2. */
export const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;
