// Service-worker lifecycle as UI state: "ready to work offline" after the first install,
// "update available" when a new build is waiting (applied on the user's click).
export class OfflineState {
  status = $state<'unsupported' | 'installing' | 'ready' | 'update' | 'error'>('unsupported');
  dismissed = $state(false);
  private waiting: ServiceWorker | null = null;

  async register(url = './sw.js'): Promise<void> {
    if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
    this.status = 'installing';
    try {
      const reg = await navigator.serviceWorker.register(url);
      const hadController = !!navigator.serviceWorker.controller;
      const track = (w: ServiceWorker | null) => {
        if (!w) return;
        w.addEventListener('statechange', () => {
          if (w.state === 'installed') {
            if (hadController) { this.waiting = w; this.status = 'update'; this.dismissed = false; } else this.status = 'ready';
          } else if (w.state === 'activated' && !hadController) this.status = 'ready';
        });
      };
      if (reg.waiting && hadController) { this.waiting = reg.waiting; this.status = 'update'; }
      else if (reg.active && !reg.installing) this.status = 'ready';
      track(reg.installing);
      // A first install can get past 'installing' before register() resolves on a busy page
      // (installing and active both null, the worker waiting to activate): `ready` still settles.
      if (!hadController) void navigator.serviceWorker.ready.then(() => { if (this.status === 'installing') this.status = 'ready'; });
      reg.addEventListener('updatefound', () => track(reg.installing));
      navigator.serviceWorker.addEventListener('controllerchange', () => { if (this.status === 'update') location.reload(); });
    } catch {
      this.status = 'error';
    }
  }

  applyUpdate(): void {
    this.waiting?.postMessage('skipWaiting');
  }
}
