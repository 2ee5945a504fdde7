/* perfapp voice notes on the compose sheet: hold to talk (or tap to start and tap to stop), up to
 * a minute, with a timer and a level meter; play back, record again or delete before sending.
 *
 * The recording rides in the form's hidden <input type="file" name="voice">, so it posts with the
 * form. Contract with the offline drafts (outbox.js):
 *   - after every change the form gets "perfapp:voice-changed" with detail {blob, mime, duration}
 *     (blob null when the voice note was deleted);
 *   - "perfapp:voice-restore" with the same detail, dispatched on the form (or the document),
 *     shows a saved recording again and puts it back into the file input.
 */
(function () {
  "use strict";

  var HOLD_MS = 400;  // pressed longer than this: hold-to-talk (release stops); shorter: a tap toggles
  var TYPES = ["audio/webm;codecs=opus", "audio/mp4"];  // WebM/Opus (Chrome, Android), else MP4/AAC (Safari, iOS)
  var canRecord = !!(window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
  var carried = null;  // a recording kept across the form's re-render after a validation error

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds || 0));  // whole seconds down, as media players count
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function text(s, name, time) {
    return (s.widget.getAttribute("data-t-" + name) || "").replace("{time}", time || "");
  }
  function extension(mime) {
    if (/mp4|aac|m4a/.test(mime)) return "m4a";
    if (/ogg/.test(mime)) return "ogg";
    return "webm";
  }
  function pickMime() {
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(TYPES[i])) return TYPES[i];
    }
    return "";  // the browser's own default; the server decides whether it is acceptable
  }

  // --- one widget ------------------------------------------------------------------------
  function setup(widget) {
    if (widget._voice) return widget._voice;
    var q = function (sel) { return widget.querySelector(sel); };
    var s = widget._voice = {
      widget: widget, form: widget.closest("form"), state: "idle", clip: null, url: null,
      input: q("[data-voice-file]"), rec: q("[data-voice-rec]"), label: q("[data-voice-label]"),
      level: q("[data-voice-level]"), hint: q("[data-voice-hint]"), audio: q("[data-voice-audio]"),
      time: q("[data-voice-time]"), progress: q("[data-voice-progress]"), error: q("[data-voice-error]"),
      status: q("[data-voice-status]"), idleLabel: q("[data-voice-label]").textContent,
      idleHint: q("[data-voice-hint]").textContent,
    };
    q("[data-voice-redo]").hidden = !canRecord;
    s.audio.addEventListener("play", function () { widget.setAttribute("data-playing", ""); playLabel(s); });
    s.audio.addEventListener("pause", function () { widget.removeAttribute("data-playing"); playLabel(s); });
    s.audio.addEventListener("ended", function () { s.audio.currentTime = 0; showPlayback(s); });
    s.audio.addEventListener("timeupdate", function () { showPlayback(s); });
    if (canRecord || s.input.files.length) widget.hidden = false;
    if (carried) {
      showClip(s, carried, false);
      carried = null;
    }
    return s;
  }
  function stateOf(el) {
    var widget = el.closest("[data-voice]");
    return widget ? setup(widget) : null;
  }
  function setState(s, state) {
    s.state = state;
    s.widget.setAttribute("data-state", state);
    if (state === "recording") {
      s.rec.setAttribute("aria-label", text(s, "stop"));
    } else {
      s.rec.removeAttribute("aria-label");
      s.label.textContent = s.idleLabel;
      s.hint.textContent = s.idleHint;
      if (s.level) s.level.style.width = "0";
    }
  }
  function announce(s, message) { s.status.textContent = message; }
  function showError(s, message) {
    s.error.textContent = message;
    s.error.hidden = !message;
  }
  function changed(s) {
    var c = s.clip;
    s.form.dispatchEvent(new CustomEvent("perfapp:voice-changed", {
      bubbles: true, detail: { blob: c ? c.blob : null, mime: c ? c.mime : null, duration: c ? c.duration : 0 },
    }));
  }

  // --- recording -----------------------------------------------------------------------------
  function start(s, mode) {
    if (!canRecord || s.state === "recording" || s.starting) return;
    s.starting = true;
    s.mode = mode;
    s.abortStart = false;
    showError(s, "");
    navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } }).then(function (stream) {
      s.starting = false;
      // Held and already let go while the browser asked for the microphone: nothing to record.
      if (s.abortStart || !document.contains(s.widget)) { stopTracks(stream); return; }
      var mime = pickMime();
      var rec;
      try {
        rec = mime ? new MediaRecorder(stream, { mimeType: mime, audioBitsPerSecond: 48000 }) : new MediaRecorder(stream);
      } catch (e) {
        stopTracks(stream);
        showError(s, text(s, "failed"));
        return;
      }
      var chunks = [];
      rec.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
      rec.onstop = function () { finish(s, rec, chunks, mime); };
      s.recorder = rec;
      s.stream = stream;
      s.startedAt = performance.now();
      rec.start();
      startMeter(s, stream);
      setState(s, "recording");
      s.hint.textContent = text(s, s.mode === "hold" ? "release" : "tap-stop");
      announce(s, text(s, "recording", "0:00"));
      var max = parseInt(s.widget.getAttribute("data-max-seconds") || "60", 10) * 1000;
      // A timer, not the animation loop: that one pauses in background tabs.
      s.limit = setTimeout(function () { stop(s); }, max);
      tick(s);
      if (s.stopWhenStarted) { s.stopWhenStarted = false; stop(s); }
    }, function (err) {
      s.starting = false;
      var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
      showError(s, text(s, denied ? "denied" : "failed"));
    });
  }
  function stop(s) {
    if (s.recorder && s.recorder.state !== "inactive") s.recorder.stop();
  }
  function stopTracks(stream) {
    stream.getTracks().forEach(function (t) { t.stop(); });
  }
  function release(s) {
    clearTimeout(s.limit);
    if (s.stream) stopTracks(s.stream);
    if (s.audioContext) s.audioContext.close().catch(function () {});
    s.stream = s.recorder = s.audioContext = s.readLevel = null;
  }
  function finish(s, rec, chunks, mime) {
    var seconds = Math.min((performance.now() - s.startedAt) / 1000,
      parseInt(s.widget.getAttribute("data-max-seconds") || "60", 10));
    release(s);
    if (!document.contains(s.widget)) return;
    var type = rec.mimeType || mime || (chunks[0] && chunks[0].type) || "audio/webm";
    if (!chunks.length) { setState(s, "idle"); showError(s, text(s, "failed")); return; }
    showClip(s, { blob: new Blob(chunks, { type: type }), mime: type, duration: seconds }, true);
  }
  function startMeter(s, stream) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx();
      var analyser = ctx.createAnalyser();
      analyser.fftSize = 512;
      ctx.createMediaStreamSource(stream).connect(analyser);
      var buf = new Uint8Array(analyser.fftSize);
      s.audioContext = ctx;
      s.readLevel = function () {
        analyser.getByteTimeDomainData(buf);
        var sum = 0;
        for (var i = 0; i < buf.length; i++) { var v = (buf[i] - 128) / 128; sum += v * v; }
        return Math.min(1, Math.sqrt(sum / buf.length) * 4);
      };
    } catch (e) { s.readLevel = null; }
  }
  function tick(s) {
    if (s.state !== "recording") return;
    if (!document.contains(s.widget)) { stop(s); return; }  // the form went away mid-recording
    var elapsed = (performance.now() - s.startedAt) / 1000;
    s.label.textContent = text(s, "recording", clock(Math.floor(elapsed)));
    if (s.level && s.readLevel) s.level.style.width = Math.round(s.readLevel() * 100) + "%";
    // Reduced motion: the meter steps twice a second instead of following the voice.
    if (reducedMotion && reducedMotion.matches) setTimeout(function () { tick(s); }, 500);
    else requestAnimationFrame(function () { tick(s); });
  }

  // --- the recorded clip ------------------------------------------------------------------------
  function showClip(s, clip, isNew) {
    s.clip = clip;
    var file = new File([clip.blob], "voice." + extension(clip.mime), { type: clip.mime.split(";")[0] });
    try {
      var dt = new DataTransfer();
      dt.items.add(file);
      s.input.files = dt.files;
    } catch (e) { s.file = file; }  // no DataTransfer: added to the request in htmx:configRequest
    if (s.url) URL.revokeObjectURL(s.url);
    s.url = URL.createObjectURL(clip.blob);
    s.audio.src = s.url;
    showError(s, "");
    var serverError = s.form.querySelector("#err-voice");
    if (serverError && isNew) serverError.remove();
    s.widget.hidden = false;
    setState(s, "recorded");
    showPlayback(s);
    playLabel(s);
    if (isNew) {
      announce(s, text(s, "recorded", clock(Math.max(1, clip.duration))));
      changed(s);
    }
  }
  function clearClip(s, isNew) {
    s.audio.pause();
    s.clip = s.file = null;
    s.input.value = "";
    if (s.url) { URL.revokeObjectURL(s.url); s.url = null; }
    s.audio.removeAttribute("src");
    setState(s, "idle");
    if (!canRecord) s.widget.hidden = true;
    if (isNew) changed(s);
  }
  function showPlayback(s) {
    if (!s.clip) return;
    // MediaRecorder's WebM has no duration in its header (the element says Infinity): use ours.
    var total = s.clip.duration || 0;
    var now = s.audio.currentTime || 0;
    var started = now > 0 || s.widget.hasAttribute("data-playing");
    s.time.textContent = started ? clock(now) + " / " + clock(Math.max(1, total)) : clock(Math.max(1, total));
    s.progress.style.width = total ? Math.min(100, now / total * 100) + "%" : "0";
  }
  function playLabel(s) {
    var playing = s.widget.hasAttribute("data-playing");
    s.widget.querySelector("[data-voice-play]").setAttribute("aria-label", text(s, playing ? "pause" : "play"));
  }

  // --- input: press and hold, tap, keyboard ---------------------------------------------------
  document.addEventListener("pointerdown", function (e) {
    var btn = e.target.closest && e.target.closest("[data-voice-rec]");
    if (!btn || e.button !== 0) return;
    var s = stateOf(btn);
    e.preventDefault();
    if (btn.setPointerCapture) { try { btn.setPointerCapture(e.pointerId); } catch (err) { /* synthetic */ } }
    s.pressed = true;
    s.pressedAt = performance.now();
    if (s.state === "recording") { s.stopOnRelease = true; return; }  // the second tap of tap mode
    start(s, "hold");
  });
  function onRelease(e) {
    var btn = e.target.closest && e.target.closest("[data-voice-rec]");
    var s = btn && stateOf(btn);
    if (!s || !s.pressed) return;
    s.pressed = false;
    if (s.stopOnRelease) { s.stopOnRelease = false; stop(s); return; }
    if (performance.now() - s.pressedAt >= HOLD_MS) {
      if (s.state === "recording") stop(s);
      else if (s.starting) s.abortStart = true;
    } else {
      s.mode = "tap";  // a quick tap: keep recording until the next tap
      if (s.state === "recording") s.hint.textContent = text(s, "tap-stop");
    }
  }
  document.addEventListener("pointerup", onRelease);
  document.addEventListener("pointercancel", onRelease);
  document.addEventListener("contextmenu", function (e) {
    if (e.target.closest && e.target.closest("[data-voice-rec]")) e.preventDefault();
  });

  document.addEventListener("click", function (e) {
    var el = e.target.closest && e.target.closest("[data-voice-rec], [data-voice-play], [data-voice-redo], [data-voice-delete]");
    if (!el) return;
    var s = stateOf(el);
    if (el.hasAttribute("data-voice-rec")) {
      // Pointers were handled above; a click with detail 0 comes from the keyboard (Enter, Space).
      if (e.detail !== 0) return;
      if (s.state === "recording") stop(s);
      else start(s, "tap");
    } else if (el.hasAttribute("data-voice-play")) {
      if (s.audio.paused) s.audio.play().catch(function () {});
      else s.audio.pause();
    } else if (el.hasAttribute("data-voice-redo")) {
      clearClip(s, true);
      start(s, "tap");
    } else {
      clearClip(s, true);
      announce(s, text(s, "deleted"));
      s.rec.focus();
    }
  });

  // --- the form around it -----------------------------------------------------------------------
  function init(root) {
    (root || document).querySelectorAll("[data-voice]").forEach(setup);
  }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target.parentNode || e.target); });

  // A validation error re-renders the whole form: keep the recording for the new one.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    var widget = target && target.querySelector && target.querySelector("[data-voice]");
    var s = widget && widget._voice;
    if (!s) return;
    if (s.state === "recording") stop(s);
    carried = e.detail.xhr && e.detail.xhr.status >= 400 && s.clip ? s.clip : null;
  });
  document.addEventListener("htmx:configRequest", function (e) {
    var widget = e.detail.elt && e.detail.elt.querySelector && e.detail.elt.querySelector("[data-voice]");
    var s = widget && widget._voice;
    if (s && s.file && e.detail.formData && !s.input.files.length) e.detail.formData.set("voice", s.file);
  });
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("[data-voice]").forEach(function (w) { if (w._voice) { stop(w._voice); release(w._voice); } });
  });

  // Captured, so it arrives whether or not the sender lets it bubble.
  document.addEventListener("perfapp:voice-restore", function (e) {
    var d = e.detail || {};
    var form = e.target && e.target.closest ? e.target.closest("form") : document.querySelector("form.compose");
    var widget = form && form.querySelector("[data-voice]");
    if (!widget) return;
    var s = setup(widget);
    if (s.state === "recording") return;  // a live recording wins over a saved one
    if (d.blob) showClip(s, { blob: d.blob, mime: d.mime || d.blob.type || "audio/webm", duration: Number(d.duration) || 0 }, false);
    else clearClip(s, false);
  }, true);
})();
