// A dialog's one request at a time: busy while it runs, its failure kept in words for the dialog.
import { useState } from 'react';
import { errorMessage } from '../../../shared/errors.js';

export function useRequest(): { busy: boolean; failure: string | undefined; run: (request: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const run = async (request: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    try {
      await request();
    } catch (error) {
      setFailure(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };
  return { busy, failure, run };
}
