/**
 * How the console gets a person's attention: a short tone (Web Audio, no sound file) and a browser
 * notification when the user allowed them (asked once, on the first alert). Both fail silently
 * (autoplay policy, no audio device, notifications refused): the page shows the same on screen.
 */
export function tone(frequency = 880, seconds = 0.6): void {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = frequency;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + seconds);
    osc.onended = () => void ctx.close();
  } catch {
    // no audio: the page still shows it
  }
}

export function browserNotify(title: string, body: string, tag: string): void {
  if (typeof Notification === 'undefined') return;
  const show = () => new Notification(title, { body, tag });
  if (Notification.permission === 'granted') show();
  else if (Notification.permission === 'default')
    void Notification.requestPermission().then((p) => p === 'granted' && show());
}

/**
 * The tab's title, from two writers: the queue's count of extra-urgent tickets (`tabTitle`) and the
 * escalation banner's "(!)" mark (`markTab`). Kept here so that a recount does not drop the mark.
 */
let tabText: string | null = null;
let tabMarked = false;
const renderTab = () => {
  const text = tabText ?? document.title.replace(/^\(!\) /, '');
  document.title = tabMarked ? `(!) ${text}` : text;
};
export function tabTitle(text: string): void {
  tabText = text;
  renderTab();
}
export function markTab(on: boolean): void {
  tabMarked = on;
  renderTab();
}
