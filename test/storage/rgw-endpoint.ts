/**
 * Where the test RGW is and how to sign in, without loading the AWS SDK (local test runs import
 * this too). Defaults are scripts/start-ceph-rgw.sh's; S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY
 * and S3_REGION override them.
 */
export const RGW = {
  endpoint: process.env.S3_ENDPOINT ?? 'http://127.0.0.1:7480',
  region: process.env.S3_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.S3_ACCESS_KEY ?? 's3testaccesskey',
    secretAccessKey: process.env.S3_SECRET_KEY ?? 's3testsecretkey0123456789',
  },
};

/** The environment that points the CLI (a child process) at the test RGW. */
export const RGW_CLI_ENV = {
  AWS_ENDPOINT_URL: RGW.endpoint,
  AWS_ACCESS_KEY_ID: RGW.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: RGW.credentials.secretAccessKey,
  AWS_REGION: RGW.region,
};
