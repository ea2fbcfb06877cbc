// Short messages about what just happened: an action that failed (saying what to do), a copy that
// worked. Errors stay until dismissed; the rest fade on their own.
import { create } from 'zustand';

export interface Toast {
  id: number;
  tone: 'ok' | 'bad' | 'info';
  title: string;
  detail?: string;
}

interface ToastsState {
  toasts: Toast[];
  push(toast: Omit<Toast, 'id'>): number;
  dismiss(id: number): void;
}

let nextId = 1;
const timers = new Map<number, ReturnType<typeof setTimeout>>();

export const useToasts = create<ToastsState>()((set, get) => ({
  toasts: [],
  push(toast) {
    const id = nextId++;
    // Keep the five newest: a burst of failures must not cover the window.
    set((state) => ({ toasts: [...state.toasts, { ...toast, id }].slice(-5) }));
    if (toast.tone !== 'bad')
      timers.set(
        id,
        setTimeout(() => get().dismiss(id), 5_000),
      );
    return id;
  },
  dismiss(id) {
    clearTimeout(timers.get(id));
    timers.delete(id);
    set((state) => ({ toasts: state.toasts.filter((toast) => toast.id !== id) }));
  },
}));
