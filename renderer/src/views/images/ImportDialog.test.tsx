// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UPLOAD_CHUNK_BYTES } from '../../../../shared/uploads.js';
import { useLanguageStore } from '../../i18n';
import { createStores, StoresContext } from '../../stores';
import { ScriptedClient } from '../../stores/test-fixtures';
import { ImportDialog } from './ImportDialog';

describe('ImportDialog: a file from this computer', () => {
  beforeEach(() => useLanguageStore.setState({ language: 'en' }));
  afterEach(cleanup);

  it('takes a dropped tarball, uploads it in bounded chunks with a progress bar, then imports it', async () => {
    const content = new Uint8Array(UPLOAD_CHUNK_BYTES + 1000).map((_, index) => index % 251);
    const received: Uint8Array[] = [];
    let release: () => void = () => undefined;
    const client = new ScriptedClient({
      'images.upload.begin': () => ({ id: '0123456789abcdef' }),
      'images.upload.chunk': async (params) => {
        received.push(Uint8Array.from(atob(params.data), (char) => char.charCodeAt(0)));
        if (received.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return { received: params.offset + (received.at(-1)?.length ?? 0) };
      },
      'images.upload.commit': () => [],
      'images.list': () => [],
    });
    const stores = createStores(client);
    let closed = false;
    render(
      <StoresContext value={stores}>
        <ImportDialog machine="local" onClose={() => (closed = true)} />
      </StoresContext>,
    );
    const dialog = screen.getByRole('dialog', { name: 'Import an image from a tarball' });
    // Keyboard users pick the file with a labelled file input; here it is dropped.
    expect(within(dialog).getByLabelText('Tarball from this computer')).toBeTruthy();
    const file = new File([content], 'busybox.tar', { type: 'application/x-tar' });
    fireEvent.drop(screen.getByTestId('image-drop-zone'), { dataTransfer: { files: [file] } });
    expect(within(dialog).getByText(/busybox\.tar \(.*\) will be uploaded/)).toBeTruthy();
    expect(within(dialog).queryByRole('textbox', { name: 'Path on the machine' })).toBeNull();

    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Kind' }), { target: { value: 'rootfs' } });
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Name' }), { target: { value: 'busybox:dropped' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Import' }));
    await waitFor(() => expect(received).toHaveLength(1)); // the first chunk is at the host, held there
    const bar = within(dialog).getByRole('progressbar', { name: 'Upload progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('0');
    expect(bar.getAttribute('aria-valuetext')).toMatch(/^0 B of .* uploaded$/);
    act(() => release());
    await waitFor(() => expect(closed).toBe(true));

    const begin = client.calls.find((call) => call.method === 'images.upload.begin');
    expect(begin?.params).toEqual({ machine: 'local', size: content.length, file: 'busybox.tar', kind: 'rootfs', name: 'busybox:dropped' });
    const chunks = client.calls.filter((call) => call.method === 'images.upload.chunk').map((call) => call.params as { offset: number });
    expect(chunks.map((chunk) => chunk.offset)).toEqual([0, UPLOAD_CHUNK_BYTES]);
    expect(received.map((chunk) => chunk.length)).toEqual([UPLOAD_CHUNK_BYTES, 1000]);
    expect(Buffer.concat(received).equals(Buffer.from(content))).toBe(true);
    expect(
      client.calls.at(-1)?.method === 'images.upload.commit' || client.calls.some((call) => call.method === 'images.upload.commit'),
    ).toBe(true);
    expect(closed).toBe(true);
  });

  it('cancels the upload on the host when a chunk is refused, and says why', async () => {
    const client = new ScriptedClient({
      'images.upload.begin': () => ({ id: '0123456789abcdef' }),
      'images.upload.chunk': () => {
        throw new Error('params.data: goes past the 3 bytes announced at images.upload.begin');
      },
      'images.upload.abort': () => ({}),
    });
    render(
      <StoresContext value={createStores(client)}>
        <ImportDialog machine="local" onClose={() => undefined} />
      </StoresContext>,
    );
    const input = screen.getByLabelText('Tarball from this computer');
    fireEvent.change(input, { target: { files: [new File(['abc'], 'x.tar')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Import' }));
    expect((await screen.findByRole('alert')).textContent).toContain('goes past the 3 bytes');
    expect(client.calls.map((call) => call.method)).toEqual(['images.upload.begin', 'images.upload.chunk', 'images.upload.abort']);
  });
});
