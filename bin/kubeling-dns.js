#!/usr/bin/env node
// kubeling-dns: see launch.js (compiled build when present, else the sources through tsx).
import { launch } from "./launch.js";

await launch("dns");
