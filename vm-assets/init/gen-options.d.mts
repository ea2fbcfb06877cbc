export const PROTOCOL_FILE: string;
export const OPTIONS_HEADER: string;
export function renderOptionsHeader(protocol: unknown): string;
export function writeOptionsHeader(): boolean;
