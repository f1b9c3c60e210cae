// The tantalus CLI from source, for tests that must run it as a real process (signals, terminals, other users).
import { main } from "../../src/cli/main.js";

process.exitCode = await main(process.argv);
