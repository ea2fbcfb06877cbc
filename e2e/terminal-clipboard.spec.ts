// A machine shell in the Terminals view, used the way people use a terminal: run a command, select
// its output with the mouse and copy it (Ctrl+Shift+C and the Copy button), paste a command
// (Ctrl+Shift+V and the Paste button) and run it, then end the shell and see it say so.
import { expect, test } from './fixtures/serve';

/** The page's async Clipboard API (the e2e project is typed for Node, without the DOM library). */
interface PageGlobal {
  navigator: { clipboard: { readText(): Promise<string>; writeText(text: string): Promise<void> } };
}

test('a machine shell copies a selection, pastes a command and says when it ended', async ({ page, served }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.origin });
  const clipboard = {
    read: () => page.evaluate(() => (globalThis as unknown as PageGlobal).navigator.clipboard.readText()),
    write: (text: string) => page.evaluate((value) => (globalThis as unknown as PageGlobal).navigator.clipboard.writeText(value), text),
  };

  await page.goto(`${served.url}#/terminals`);
  await page.getByRole('button', { name: 'New shell on local' }).click();
  const pane = page.getByRole('region', { name: /^Terminal local/ });
  const rows = pane.locator('.xterm-rows');
  await expect(rows).toContainText(/[#$]/);
  await pane.locator('.xterm-helper-textarea').focus();

  // The shell computes the word, so the copied text cannot come from what the test typed.
  await page.keyboard.type('echo onggi-copy-$((6*7))\n');
  const output = rows.locator(':scope > div').filter({ hasText: /^onggi-copy-42\s*$/ });
  await expect(output).toHaveCount(1);

  // A double click selects the word under the pointer (the output starts in column 0). The rows
  // lie under xterm's screen layer, which takes the pointer, so the click goes to their position.
  await clipboard.write('nothing yet');
  const box = await output.boundingBox();
  if (!box) throw new Error('the output row has no box');
  await page.mouse.dblclick(box.x + 4, box.y + box.height / 2);
  await page.keyboard.press('Control+Shift+C');
  await expect.poll(clipboard.read).toBe('onggi-copy-42');

  await clipboard.write('nothing yet');
  await pane.getByRole('button', { name: 'Copy selection' }).click();
  await expect(page.getByText('Copied', { exact: true })).toBeVisible();
  await expect.poll(clipboard.read).toBe('onggi-copy-42');

  // Paste with the keys, then with the button: each command runs in the shell.
  await clipboard.write('echo pasted-$((2+3))');
  await pane.locator('.xterm-helper-textarea').focus();
  await page.keyboard.press('Control+Shift+V');
  await expect(rows).toContainText('echo pasted-$((2+3))');
  await page.keyboard.press('Enter');
  await expect(rows.locator(':scope > div').filter({ hasText: /^pasted-5\s*$/ })).toHaveCount(1);

  await clipboard.write('echo button-$((3*3))');
  await pane.getByRole('button', { name: 'Paste', exact: true }).click();
  await expect(rows).toContainText('echo button-$((3*3))');
  await page.keyboard.press('Enter');
  await expect(rows.locator(':scope > div').filter({ hasText: /^button-9\s*$/ })).toHaveCount(1);

  // The end of the session is said plainly, with its exit code; the output stays; paste is off.
  await page.keyboard.type('exit 3\n');
  await expect(pane.getByRole('status')).toContainText('The session ended (exit code 3)');
  await expect(rows).toContainText('onggi-copy-42');
  await expect(pane.getByRole('button', { name: 'Paste', exact: true })).toBeDisabled();
});
