// The AWS SDK clients for one EC2 machine: its region, and credentials from the SDK's own providers
// (a named profile of ~/.aws/config — static keys, SSO, assume-role, credential_process — or the
// default chain: environment, shared files, SSO, instance role). Nothing here stores or returns a
// secret. No endpoint is set here on purpose: the SDK reads AWS_ENDPOINT_URL and its per-service
// variants (AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_SSM) itself, and one of ours would override them.
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { fromIni, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { awsError } from './aws-errors.js';

export interface AwsTarget {
  region: string;
  /** A profile of ~/.aws/config; absent: the default provider chain (AWS_PROFILE is honoured there). */
  profile?: string | undefined;
}

export interface AwsClients {
  readonly target: AwsTarget;
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  /** Resolves the credentials now, so a missing profile is said before anything is made. */
  checkCredentials(): Promise<void>;
}

export function awsClients(target: AwsTarget): AwsClients {
  // fromIni for a named profile: a profile that is not there fails at once (the full chain would
  // go on to the instance metadata service and time out first).
  const credentials: ReturnType<typeof fromIni> = target.profile ? fromIni({ profile: target.profile }) : fromNodeProviderChain();
  const config = { region: target.region, credentials };
  return {
    target,
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    async checkCredentials() {
      try {
        await credentials();
      } catch (error) {
        throw awsError(error, { ...target, action: 'read the AWS credentials' });
      }
    },
  };
}
