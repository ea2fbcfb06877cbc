// The desktop's public IPv4 address, as AWS sees it: the source the SSH rule admits. Asked of
// checkip.amazonaws.com (AWS's own service, one line of text); ONGGI_PUBLIC_IP overrides it (a
// desktop behind a proxy that knows better; tests).
import { OnggiError, errorMessage } from '../../../../shared/errors.js';
import { ErrorCode } from '../../../../shared/jsonrpc.js';
import { Ipv4 } from '../../../../shared/machines.js';

const CHECKIP_URL = 'https://checkip.amazonaws.com';
/** An answer is reused this long: the window describes every EC2 machine on each state change. */
const REUSE_MS = 60_000;
let lastAnswer: { address: string; at: number } | undefined;

export async function desktopPublicAddress(env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<string> {
  const override = env.ONGGI_PUBLIC_IP?.trim();
  if (override) {
    if (!Ipv4.safeParse(override).success)
      throw new OnggiError(ErrorCode.InvalidParams, 'invalid_params', `ONGGI_PUBLIC_IP must be an IPv4 address, not "${override}"`);
    return override;
  }
  if (lastAnswer && Date.now() - lastAnswer.at < REUSE_MS) return lastAnswer.address;
  let text: string;
  try {
    const response = await fetch(CHECKIP_URL, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = (await response.text()).trim();
  } catch (error) {
    throw new OnggiError(
      ErrorCode.Unavailable,
      'public_address_unknown',
      `could not learn this computer's public address from ${CHECKIP_URL} (${errorMessage(error)}); set ONGGI_PUBLIC_IP to it`,
    );
  }
  if (!Ipv4.safeParse(text).success)
    throw new OnggiError(
      ErrorCode.Unavailable,
      'public_address_unknown',
      `${CHECKIP_URL} answered "${text.slice(0, 64)}", not an IPv4 address; set ONGGI_PUBLIC_IP`,
    );
  lastAnswer = { address: text, at: Date.now() };
  return text;
}
