// ssh2's protocol module, which @types/ssh2 does not declare: sftp-server.ts types what it uses.
declare module 'ssh2/lib/protocol/SFTP.js' {
  const sftp: unknown;
  export default sftp;
}
