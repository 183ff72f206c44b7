/** The API's thread: starts the server, reports its URL, answers "snapshot" and "close". */
import { parentPort, workerData } from "node:worker_threads";
import { startApi, type ApiOptions } from "./api.js";

const api = await startApi(workerData as ApiOptions);
parentPort!.postMessage({ reply: "url", value: api.url });
parentPort!.on("message", async (request: string) => {
  if (request === "snapshot") {
    const log = await api.snapshot();
    parentPort!.postMessage({ reply: "snapshot", value: { ...log, received: [...log.received] } });
  } else if (request === "hang") {
    await api.hang();
    parentPort!.postMessage({ reply: "hang", value: undefined });
  } else if (request === "close") {
    await api.close();
    parentPort!.postMessage({ reply: "close", value: undefined });
  }
});
