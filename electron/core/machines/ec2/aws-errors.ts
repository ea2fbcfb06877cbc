// AWS failures in the user's words, in one place: the SDK's error names (and the few of our own
// checks that stand for one) mapped to what went wrong and what to do. Anything unmapped keeps
// AWS's own name and message, after what we were doing.
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';

export interface AwsErrorContext {
  region: string;
  profile?: string | undefined;
  /** What we were doing, as a verb phrase: `launch the instance`, `stop i-…`. */
  action: string;
  image?: string | undefined;
  instanceType?: string | undefined;
  instanceId?: string | undefined;
}

/** The name the SDK gives an error (its `name`, or the service's `Code`), or a Node system error's code. */
export function awsErrorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const record = error as { name?: unknown; Code?: unknown; code?: unknown };
  if (typeof record.code === 'string' && /^E[A-Z]+$/.test(record.code)) return record.code;
  if (typeof record.Code === 'string') return record.Code;
  return typeof record.name === 'string' ? record.name : '';
}

export function awsError(error: unknown, context: AwsErrorContext): OnggiError {
  if (error instanceof OnggiError) return error;
  const name = awsErrorName(error);
  const message = errorMessage(error);
  const { region } = context;
  const profile = context.profile ? `profile "${context.profile}"` : 'the default profile';
  const loginHint = context.profile
    ? `run \`aws configure --profile ${context.profile}\` (or \`aws sso login --profile ${context.profile}\`)`
    : 'run `aws configure` or set AWS_PROFILE';
  const fail = (code: number, kind: string, text: string, field?: string): OnggiError => new OnggiError(code, kind, text, field);

  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return fail(
      ErrorCode.Forbidden,
      'aws_no_credentials',
      `no AWS credentials for ${profile} (looked in the environment, ~/.aws/credentials, ~/.aws/config and SSO): ${loginHint}`,
      'params.profile',
    );
  }
  if (['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired'].includes(name)) {
    return fail(
      ErrorCode.Forbidden,
      'aws_credentials_expired',
      `the AWS credentials of ${profile} have expired: ${loginHint}`,
      'params.profile',
    );
  }
  if (['AuthFailure', 'InvalidClientTokenId', 'UnrecognizedClientException', 'SignatureDoesNotMatch'].includes(name)) {
    return fail(
      ErrorCode.Forbidden,
      'aws_auth_failed',
      `AWS did not accept the credentials of ${profile} in region ${region} (wrong keys, or the region is not enabled for this account)`,
      'params.profile',
    );
  }
  if (name === 'OptInRequired') {
    return fail(
      ErrorCode.Forbidden,
      'aws_region_disabled',
      `region ${region} is not enabled for this AWS account (enable it in the account settings)`,
      'params.region',
    );
  }
  if (['UnauthorizedOperation', 'AccessDeniedException', 'AccessDenied'].includes(name)) {
    return fail(
      ErrorCode.Forbidden,
      'aws_forbidden',
      `${profile} may not ${context.action} in region ${region}: give it the policy in docs/ec2.md (AWS said: ${message})`,
    );
  }
  if (name === 'ENOTFOUND' || name === 'EAI_AGAIN' || /getaddrinfo/.test(message)) {
    return fail(
      ErrorCode.Unavailable,
      'aws_bad_region',
      `no AWS endpoint answers for region "${region}": is the region name right? (${message})`,
      'params.region',
    );
  }
  if (name === 'VPCIdNotSpecified' || name === 'NoDefaultVpc' || name === 'InvalidVpcID.NotFound') {
    return fail(
      ErrorCode.Unavailable,
      'aws_no_default_vpc',
      `there is no default VPC in region ${region}: make one with \`aws ec2 create-default-vpc --region ${region}\`, or choose another region`,
      'params.region',
    );
  }
  if (['InstanceLimitExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded', 'AddressLimitExceeded'].includes(name)) {
    return fail(
      ErrorCode.Unavailable,
      'aws_instance_limit',
      `the account's instance limit in region ${region} is reached: stop or terminate an instance, or ask AWS for a higher quota (${message})`,
    );
  }
  if (name.startsWith('InvalidAMIID') || name === 'ParameterNotFound' || name === 'InvalidParameters' || name === 'ImageNotOffered') {
    return fail(
      ErrorCode.Unavailable,
      'aws_image_unavailable',
      `the image ${context.image ?? ''} is not offered in region ${region}: choose another image or region`.replace(
        'image  is',
        'image is',
      ),
      'params.launch.image',
    );
  }
  if (name === 'Unsupported' || name === 'InsufficientInstanceCapacity' || name === 'InvalidInstanceType') {
    return fail(
      ErrorCode.Unavailable,
      'aws_type_unavailable',
      `the instance type ${context.instanceType ?? ''} is not available in region ${region} now (${message}): choose another type`,
      'params.launch.instanceType',
    );
  }
  if (name === 'InvalidParameterValue' && /architecture/i.test(message)) {
    return fail(
      ErrorCode.InvalidParams,
      'aws_arch_mismatch',
      `the instance type ${context.instanceType ?? ''} does not run this image's architecture: choose an arm64 type (t4g.*) for arm64, x64 (t3.*) otherwise`,
      'params.launch.instanceType',
    );
  }
  if (name === 'InvalidInstanceID.NotFound' || name === 'InvalidInstanceID.Malformed') {
    return fail(
      ErrorCode.NotFound,
      'aws_no_instance',
      `there is no instance ${context.instanceId ?? ''} in region ${region}`,
      'params.instance',
    );
  }
  if (name === 'InvalidKeyPair.Duplicate' || name === 'InvalidGroup.Duplicate') {
    return fail(
      ErrorCode.Conflict,
      'aws_left_over',
      `${name === 'InvalidKeyPair.Duplicate' ? 'a key pair' : 'a security group'} of that name exists in region ${region} already (left from an earlier machine of this name?): delete it or choose another name`,
      'params.name',
    );
  }
  if (name === 'IncorrectInstanceState' || name === 'IncorrectState') {
    return fail(ErrorCode.Conflict, 'aws_wrong_state', `cannot ${context.action} now: ${message}`);
  }
  return fail(
    ErrorCode.OperationFailed,
    'aws_failed',
    `AWS: could not ${context.action} in region ${region}: ${name ? `${name}: ` : ''}${message}`,
  );
}
