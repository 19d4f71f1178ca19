#!/usr/bin/python3
"""The latent explorer (decode-cli explorer) in real headless Chromium, against the native library.

    /usr/bin/python3 Tests/browser/explorer_test.py [--bench]

Needs Debian's chromium, chromium-driver and python3-selenium (tools/setup.sh), and the artifacts of
tools/test.sh: .build/release/decode-cli, the wasm32 build (tools/build-embedded.sh wasm) and
.build/vaert/lib/libvaert.so (tools/build-lib.sh), which is the native reference, called through ctypes.
Screenshots at 1280x800 and 390x844 go to $VAERT_SCREENSHOTS (default: a temporary folder, printed).
With --bench, also prints batch-1 decode times in wasm (in the page) and native, one thread.
"""
import base64
import ctypes
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

import numpy as np
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DECODE_CLI = os.path.join(ROOT, ".build", "release", "decode-cli")
LIBVAERT = os.path.join(ROOT, ".build", "vaert", "lib", "libvaert.so")
MODELS = os.path.join(ROOT, "tools", "models")
WORK = tempfile.mkdtemp(prefix="vaert-explorer-")
SHOTS = os.environ.get("VAERT_SCREENSHOTS") or os.path.join(WORK, "screenshots")
# One model of each kind the zoo has.
KINDS = {"vae": "fashion-vae", "conv-vae": "fashion-conv-vae", "cvae": "fashion-cvae", "dae": "fashion-dae", "vq-vae": "fashion-vq-vae"}


class Native:
    """libvaert.so through its C API: the reference the page must match."""

    def __init__(self):
        lib = ctypes.CDLL(LIBVAERT)
        lib.vaert_last_error.restype = ctypes.c_char_p
        lib.vaert_set_threads(ctypes.c_size_t(1))
        self.lib = lib

    def open(self, model_bytes):
        handle = ctypes.c_void_p()
        self.keep = ctypes.create_string_buffer(model_bytes, len(model_bytes))
        status = self.lib.vaert_open_memory(self.keep, ctypes.c_size_t(len(model_bytes)), ctypes.byref(handle))
        return handle if status == 0 else self.lib.vaert_last_error().decode()

    def shape(self, handle):
        c, h, w = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        self.check(self.lib.vaert_get_image_shape(handle, ctypes.byref(c), ctypes.byref(h), ctypes.byref(w)))
        return c.value * h.value * w.value

    def decode(self, handle, z, label=None):
        z = np.ascontiguousarray(z, dtype=np.float32).reshape(1, -1)
        pixels = np.zeros(self.shape(handle), dtype=np.float32)
        f = ctypes.POINTER(ctypes.c_float)
        if label is None:
            status = self.lib.vae_decode(handle, z.ctypes.data_as(f), ctypes.c_size_t(1), pixels.ctypes.data_as(f))
        else:
            labels = np.array([label], dtype=np.int32)
            status = self.lib.vae_decode_conditional(handle, z.ctypes.data_as(f), labels.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                                     ctypes.c_size_t(1), pixels.ctypes.data_as(f))
        self.check(status)
        return pixels

    def sample(self, handle, seed):
        pixels = np.zeros(self.shape(handle), dtype=np.float32)
        self.check(self.lib.vaert_sample(handle, ctypes.c_uint64(seed), ctypes.c_uint64(0), ctypes.c_size_t(1),
                                         pixels.ctypes.data_as(ctypes.POINTER(ctypes.c_float))))
        return pixels

    def check(self, status):
        if status != 0:
            raise AssertionError(f"libvaert: {self.lib.vaert_last_error().decode()}")


def make_page(model, out, *extra):
    subprocess.run([DECODE_CLI, "explorer", "--weights", os.path.join(MODELS, model + ".vaert"), "--out", out, *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class ExplorerTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for path in (DECODE_CLI, LIBVAERT):
            if not os.path.exists(path):
                raise SystemExit(f"explorer_test: {path} is missing; run tools/test.sh (it builds it)")
        cls.native = Native()
        cls.pages = {kind: make_page(model, os.path.join(WORK, kind + ".html"), *(["--method", "pca"] if kind != "vae" else []))
                     for kind, model in KINDS.items()}
        cls.driver = browser()

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    def load(self, page, width=1280, height=800):
        """Opens `page` (a file, or a URL) and waits for the explorer to be ready or to fail."""
        d = self.driver
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})
        d.get_log("browser")  # drop what an earlier page logged
        d.get(page if page.startswith("http") else "file://" + page)
        for _ in range(300):
            state = d.execute_script("return window.vaertExplorer && [window.vaertExplorer.ready, window.vaertExplorer.error]")
            if state and (state[0] or state[1]):
                return state
            time.sleep(0.05)
        self.fail(f"{page} did not start in 15 s")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def canvas(self, element_id):
        self.js("vaertExplorer.render()")
        return self.js(f"return document.getElementById('{element_id}').toDataURL()")

    def model_handle(self):
        return self.native.open(base64.b64decode(self.js("return vaertExplorer.modelBase64()")))

    def test_pages_open_from_disk_without_console_messages_and_decode_as_native(self):
        for kind in KINDS:
            with self.subTest(kind=kind):
                ready, error = self.load(self.pages[kind])
                self.assertTrue(ready, error)
                self.assertEqual(self.driver.get_log("browser"), [])
                info = self.js("return vaertExplorer.info")
                z = np.sin(np.arange(info["latentDim"]) * 0.7).astype(np.float32)
                label = 3 if info["classes"] else None
                page = np.array(self.js("return vaertExplorer.decode(arguments[0], arguments[1])", z.tolist(), label or 0), dtype=np.float32)
                native = self.native.decode(self.model_handle(), z, label)
                self.assertEqual(page.shape, native.shape)
                self.assertLessEqual(float(np.abs(page - native).max()), 1e-6)
                self.assertGreater(float(native.std()), 0.01)  # a real image, not a constant

    def test_page_works_when_served(self):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=WORK))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            self.assertEqual(self.load(f"http://127.0.0.1:{server.server_address[1]}/vae.html"), [True, None])
            self.assertEqual(self.driver.get_log("browser"), [])
        finally:
            server.shutdown()

    def test_slider_changes_the_image_and_moving_back_restores_it(self):
        self.load(self.pages["vae"])
        for start in ("sample 0 of seed 0, where the page opens", "z = 0"):
            before, z0 = self.canvas("decoded"), self.js("return vaertExplorer.current().z[0]")
            slider = self.driver.find_element(By.ID, "slider-0")
            slider.send_keys(*[Keys.ARROW_RIGHT] * 30)
            self.assertNotEqual(self.canvas("decoded"), before, start)
            self.assertNotEqual(self.js("return vaertExplorer.current().z[0]"), z0, start)
            slider.send_keys(*[Keys.ARROW_LEFT] * 30)
            self.assertEqual(self.canvas("decoded"), before, start)
            self.assertEqual(self.js("return vaertExplorer.current().z[0]"), z0, start)  # the exact z, not the slider's step
            self.driver.find_element(By.ID, "reset").click()
        self.assertEqual(self.js("return vaertExplorer.current().z"), [0] * self.js("return vaertExplorer.info.latentDim"))

    def hover_map_point(self, i):
        self.js("document.getElementById('map').scrollIntoView({block: 'center'})")
        x, y = self.js("return vaertExplorer.mapPointOffset(arguments[0])", i)
        ActionChains(self.driver).move_to_element_with_offset(self.driver.find_element(By.ID, "map"), round(x), round(y)).perform()

    def test_hovering_a_map_point_shows_it_decoded_beside_the_real_image(self):
        self.load(self.pages["vae"])
        real, decoded = self.canvas("map-real"), self.canvas("map-decoded")
        self.hover_map_point(17)
        # Point 17 or a neighbour within the pointer's rounding to whole pixels; not point 0, shown at the start.
        shown = re.match(r"test image (\d+): ", self.driver.find_element(By.ID, "map-point").text)
        self.assertTrue(shown and shown.group(1) != "0", self.driver.find_element(By.ID, "map-point").text)
        self.assertNotEqual(self.canvas("map-real"), real)
        self.assertNotEqual(self.canvas("map-decoded"), decoded)
        # A click loads it into the decoder: z becomes the point's latent mean.
        ActionChains(self.driver).click().perform()
        self.driver.find_element(By.ID, "map-use").click()
        self.js("vaertExplorer.render()")
        z = np.array(self.js("return vaertExplorer.current().z"), dtype=np.float32)
        self.assertGreater(float(np.abs(z).max()), 0.1)
        self.assertEqual(self.canvas("decoded"), self.canvas("map-decoded"))

    def test_grid_shows_n_by_n_tiles(self):
        self.load(self.pages["vae"])
        for n in ("5", "9"):
            self.js(f"const s = document.getElementById('grid-n'); s.value = '{n}'; s.dispatchEvent(new Event('input'))")
            self.canvas("grid")
            grid = self.js("return vaertExplorer.grid()")
            self.assertEqual((grid["n"], grid["width"], grid["height"]), (int(n), int(n) * grid["tile"][0], int(n) * grid["tile"][1]))
            # Corner tiles differ: the grid really moves along its dimensions.
            corners = self.js("""const c = document.getElementById('grid').getContext('2d'), [w, h] = vaertExplorer.grid().tile;
                                 const n = vaertExplorer.grid().n;
                                 return [Array.from(c.getImageData(0, 0, w, h).data), Array.from(c.getImageData((n - 1) * w, (n - 1) * h, w, h).data)]""")
            self.assertNotEqual(corners[0], corners[1])

    def test_typed_seed_gives_decode_cli_samples_first_image(self):
        seed = 12345
        out = os.path.join(WORK, "sample")
        self.load(self.pages["vae"])
        handle = self.model_handle()
        model_file = os.path.join(WORK, "page-model.vaert")
        with open(model_file, "wb") as f:
            f.write(base64.b64decode(self.js("return vaertExplorer.modelBase64()")))
        subprocess.run([DECODE_CLI, "sample", "--weights", model_file, "--count", "1", "--seed", str(seed), "--out", out, "--latents"],
                       check=True, stdout=subprocess.DEVNULL)
        z = np.load(os.path.join(out, "latents.npy")).reshape(-1)
        field = self.driver.find_element(By.ID, "seed")
        field.clear()
        field.send_keys(str(seed))
        self.driver.find_element(By.ID, "sample").click()
        self.js("vaertExplorer.render()")
        current = self.js("return vaertExplorer.current()")
        self.assertLessEqual(float(np.abs(np.array(current["z"], dtype=np.float32) - z).max()), 1e-6)
        native = self.native.decode(handle, z)
        self.assertLessEqual(float(np.abs(np.array(current["pixels"], dtype=np.float32) - native).max()), 1e-6)
        self.assertIn(f"seed {seed}", self.driver.find_element(By.ID, "sample-note").text)

    def test_vq_vae_samples_its_prior_as_native(self):
        self.load(self.pages["vq-vae"])
        self.assertTrue(self.js("return vaertExplorer.info.canSample"))
        field = self.driver.find_element(By.ID, "seed")
        field.clear()
        field.send_keys("7")
        self.driver.find_element(By.ID, "sample").click()
        page = np.array(self.js("return vaertExplorer.current().pixels"), dtype=np.float32)
        native = self.native.sample(self.model_handle(), 7)
        self.assertLessEqual(float(np.abs(page - native).max()), 1e-6)
        self.assertFalse(self.driver.find_element(By.ID, "sliders-card").is_displayed())

    def test_autoencoder_has_no_sampling(self):
        self.load(self.pages["dae"])
        self.assertFalse(self.driver.find_element(By.ID, "sample").is_enabled())
        self.assertIn("no prior", self.driver.find_element(By.ID, "sample-note").text)

    def test_conditional_model_has_a_class_picker(self):
        self.load(self.pages["cvae"])
        picker = self.driver.find_element(By.ID, "class-picker")
        self.assertTrue(picker.is_displayed())
        before = self.canvas("decoded")
        self.js("const p = document.getElementById('class-picker'); p.value = '1'; p.dispatchEvent(new Event('change'))")
        self.assertNotEqual(self.canvas("decoded"), before)
        self.assertEqual(len(picker.find_elements(By.TAG_NAME, "option")), 10)

    def test_damaged_model_shows_the_librarys_error(self):
        with open(self.pages["vae"]) as f:
            html = f.read()
        data = json.loads(re.search(r'<script type="application/json" id="vaert-data">(.*?)</script>', html, re.S).group(1))
        model = bytearray(zlib.decompress(base64.b64decode(data["model"])))
        model[len(model) // 2] ^= 0x5A  # inside the weights: the checksum no longer matches
        expected = self.native.open(bytes(model))
        self.assertIsInstance(expected, str)
        damaged = html.replace(data["model"], base64.b64encode(zlib.compress(bytes(model))).decode())
        self.assertNotEqual(damaged, html)
        path = os.path.join(WORK, "damaged.html")
        with open(path, "w") as f:
            f.write(damaged)
        ready, error = self.load(path)
        self.assertFalse(ready)
        banner = self.driver.find_element(By.ID, "error")
        self.assertTrue(banner.is_displayed())
        self.assertEqual(banner.text, f"libvaert: {expected}")
        self.assertNotIn("\n", banner.text)
        self.assertFalse(self.driver.find_element(By.ID, "app").is_displayed())

    def test_screenshots_and_layout_at_desktop_and_phone_width(self):
        os.makedirs(SHOTS, exist_ok=True)
        for kind in ("vae", "cvae"):
            for width, height in ((1280, 800), (390, 844)):
                self.load(self.pages[kind], width, height)
                self.driver.find_element(By.ID, "slider-0").send_keys(*[Keys.ARROW_RIGHT] * 40)
                self.js("vaertExplorer.render()")
                # Nothing wider than the screen: no sideways scrolling at phone width.
                self.assertLessEqual(self.js("return document.documentElement.scrollWidth"), width)
                self.driver.save_screenshot(os.path.join(SHOTS, f"explorer-{kind}-{width}x{height}.png"))
        # The whole page at 1280 px, for the README (docs/explorer.png).
        self.load(self.pages["vae"])
        height = self.js("return document.documentElement.scrollHeight")
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
        tops = "return ['sliders-card', 'interp-card', 'grid-card', 'map-card', 'legend'].map((id) => document.getElementById(id).getBoundingClientRect().top)"
        before = self.js(tops)
        self.driver.find_element(By.ID, "sample").click()  # seed 0, sample 0
        self.hover_map_point(17)
        self.js("const s = document.getElementById('interp-b'); s.value = '5'; s.dispatchEvent(new Event('input'))")
        self.js("vaertExplorer.render()")
        self.assertEqual(self.js(tops), before)  # no layout jump: notes keep their room as their text changes
        self.driver.save_screenshot(os.path.join(SHOTS, "explorer-vae-1280-full.png"))
        print(f"\nscreenshots in {SHOTS}", file=sys.stderr)


def bench():
    """Batch-1 decode in the page (wasm32) and natively (one thread), for the README."""
    native = Native()
    driver = browser()
    fields = dict(l.split(":", 1) for l in open("/proc/cpuinfo").read().split("\n\n")[0].splitlines() if ":" in l)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    cpu = f"{fields.get('model name', '?')} family {fields.get('cpu family', '?')} model {fields.get('model', '?')}"
    print(f"batch-1 decode, {cpu}; Chromium {driver.capabilities.get('browserVersion')}")
    for kind in ("vae", "conv-vae", "cvae", "vq-vae"):
        page = make_page(KINDS[kind], os.path.join(WORK, kind + ".html"), "--method", "pca")
        driver.get("file://" + page)
        while not driver.execute_script("return window.vaertExplorer && window.vaertExplorer.ready"):
            time.sleep(0.05)
        driver.execute_script("vaertExplorer.benchmark(100)")
        wasm = min(driver.execute_script("return vaertExplorer.benchmark(300)") for _ in range(5))
        handle = native.open(base64.b64decode(driver.execute_script("return vaertExplorer.modelBase64()")))
        info = driver.execute_script("return vaertExplorer.info")
        z = np.zeros(info["latentDim"], dtype=np.float32)
        label = 0 if info["classes"] else None
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(300):
                native.decode(handle, z, label)
            timings.append((time.perf_counter() - start) / 300 * 1e3)
        print(f"{KINDS[kind]:18s} wasm {wasm * 1e3:8.1f} us   native {min(timings) * 1e3:8.1f} us (through ctypes)   ratio {wasm / min(timings):5.1f}")
    driver.quit()


if __name__ == "__main__":
    if "--bench" in sys.argv:
        bench()
    else:
        unittest.main(verbosity=2)
