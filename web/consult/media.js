// The pre-call echo check against the server's aiortc peer, and
// the receive statistics shown under the video (inbound-rtp bytes and frames, from getStats).

import { api } from "../shared/api.js";

/** Resolves once the connection has gathered all its candidates (the server peers take no trickle). */
export function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
  });
}

/** Offers `stream` to a server peer at `path` (POST) and applies its answer; returns the answer body. */
export async function connectToServerPeer(pc, stream, path) {
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  await pc.setLocalDescription(await pc.createOffer());
  await gatheringComplete(pc);
  const answer = await api(path, { method: "POST", json: { type: "offer", sdp: pc.localDescription.sdp } });
  await pc.setRemoteDescription({ type: answer.type, sdp: answer.sdp });
  return answer;
}

/**
 * The echo check: sends `stream` to the server, which sends it back; `onEcho(remoteStream)` receives
 * what came back. Returns a function that ends the check.
 */
export async function startEchoCheck(stream, onEcho) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const echoed = new MediaStream();
  pc.addEventListener("track", (event) => {
    echoed.addTrack(event.track);
    onEcho(echoed, pc);
  });
  const answer = await connectToServerPeer(pc, stream, "/api/v1/consult/precall");
  return async () => {
    // The server is asked first: closing our side first made it see a hang-up, end the check by
    // itself, and answer the DELETE with 404.
    try {
      await api(`/api/v1/consult/precall/${answer.peer_id}`, { method: "DELETE" });
    } catch {
      // The server may already have hung up (its time limit); nothing is left to end there.
    } finally {
      pc.close();
    }
  };
}

/** What the connections have received so far: inbound-rtp bytes, packets and decoded video frames. */
export async function receivedStats(connections) {
  const total = { bytes: 0, packets: 0, frames: 0, audioBytes: 0, videoBytes: 0 };
  for (const pc of connections) {
    const report = await pc.getStats();
    report.forEach((entry) => {
      if (entry.type !== "inbound-rtp") return;
      total.bytes += entry.bytesReceived ?? 0;
      total.packets += entry.packetsReceived ?? 0;
      total.frames += entry.framesDecoded ?? 0;
      if (entry.kind === "audio") total.audioBytes += entry.bytesReceived ?? 0;
      if (entry.kind === "video") total.videoBytes += entry.bytesReceived ?? 0;
    });
  }
  return total;
}

/** Keeps `element` showing what is being received, every two seconds, until the returned stop(). */
export function showReceiving(element, connections) {
  let previous = 0;
  const timer = setInterval(async () => {
    const stats = await receivedStats(connections());
    const kbps = Math.max(0, Math.round(((stats.bytes - previous) * 8) / 2000));
    previous = stats.bytes;
    element.textContent = stats.bytes ? `Receiving ${kbps} kbit/s · ${stats.frames} video frames` : "No media received yet";
  }, 2000);
  return () => clearInterval(timer);
}
