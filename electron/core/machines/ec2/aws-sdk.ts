// The AWS SDK is loaded when an EC2 machine is first used, not when the CLI or the app starts:
// @aws-sdk/client-ec2 alone takes ~0.3 s to load, which every `onggi` command paid once EC2
// support was bundled (`onggi --version`: 0.47 s). The modules that import the SDK's values are
// reached only through here; the rest of the EC2 code imports their types alone.
export type Ec2Sdk = typeof import('./ec2-instances.js') & typeof import('./aws-clients.js');

let loading: Promise<Ec2Sdk> | undefined;

export function ec2Sdk(): Promise<Ec2Sdk> {
  loading ??= Promise.all([import('./ec2-instances.js'), import('./aws-clients.js')]).then(([instances, clients]) => ({
    ...instances,
    ...clients,
  }));
  return loading;
}
