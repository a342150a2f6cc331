// Relight's live preview in WebGL 2: the server's geometry (POST /api/documents/{id}/relight-geometry: normals,
// height, matte, colours, and the height field shadows are marched over) lit in the page, with the same
// formulas as retouch.tools.relight.shading, so that "Apply" (the server at full size) matches what was shown.
// Shadows are marched once per light into a layer of a texture array at the server's shadow size, and only again
// when that light changes; each frame then shades every pixel once.

export const MAX_LIGHTS = 8;
const KINDS = { point: 0, dir: 1, spot: 2 };

const VERTEX = `#version 300 es
const vec2 CORNERS[3] = vec2[3](vec2(-1.0, -1.0), vec2(3.0, -1.0), vec2(-1.0, 3.0));
void main() { gl_Position = vec4(CORNERS[gl_VertexID], 0.0, 1.0); }`;

// Heights travel as 16 bits, R the high byte and G the low, in units of uUnit pixels.
const UNPACK = `
uniform float uUnit;
float unpackHeight(vec4 t) { return (floor(t.r * 255.0 + 0.5) * 256.0 + floor(t.g * 255.0 + 0.5)) * uUnit; }`;

// One light's visibility over the shadow field, as retouch.tools.relight.shading.shadow marches it: from each
// pixel towards the light, the highest the field rises above the ray, over the distance that softens it.
const SHADOW = `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D uField;
uniform vec2 uFieldSize;
uniform int uKind;
uniform vec3 uLight; // dir: the unit vector to the light; point and spot: x, y, z in field pixels
uniform int uSteps;
uniform float uReach;
uniform float uPenumbra;
out vec4 outColor;
${UNPACK}
float at(ivec2 q) {
  if (q.x < 0 || q.y < 0 || q.x >= int(uFieldSize.x) || q.y >= int(uFieldSize.y)) return 0.0;
  return unpackHeight(texelFetch(uField, q, 0));
}
float bilinear(vec2 c) {
  vec2 f = floor(c);
  vec2 w = c - f;
  ivec2 q = ivec2(f);
  float top = mix(at(q), at(q + ivec2(1, 0)), w.x);
  float bottom = mix(at(q + ivec2(0, 1)), at(q + ivec2(1, 1)), w.x);
  return mix(top, bottom, w.y);
}
void main() {
  ivec2 p = ivec2(int(gl_FragCoord.x), int(uFieldSize.y) - 1 - int(gl_FragCoord.y));
  vec2 xy = vec2(p);
  float h = at(p);
  float side = max(uFieldSize.x, uFieldSize.y);
  vec2 u;
  float rise;
  float reach;
  if (uKind == 1) {
    float flatLength = length(uLight.xy);
    u = uLight.xy / flatLength;
    rise = uLight.z / flatLength;
    reach = uReach * side;
  } else {
    vec2 d = uLight.xy - xy;
    float flatLength = max(length(d), 1e-3);
    u = d / flatLength;
    rise = (uLight.z - h) / flatLength;
    reach = min(flatLength, uReach * side);
  }
  float blocked = 0.0;
  for (int k = 1; k <= 64; k++) {
    if (k > uSteps) break;
    float t = reach * pow(float(k) / float(uSteps), 1.5) + 1.0;
    float above = bilinear(xy + u * t) - (h + rise * t);
    blocked = max(blocked, above / (t * uPenumbra + 1.0));
  }
  outColor = vec4(vec3(1.0 - clamp(blocked, 0.0, 1.0)), 1.0);
}`;

const SHADE = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2DArray;
uniform sampler2D uAlbedo;
uniform sampler2D uNormals;
uniform sampler2D uHeight;
uniform sampler2D uSubject;
uniform sampler2D uAlpha;
uniform bool uHasAlpha;
uniform sampler2DArray uVisible;
uniform vec2 uSize;
uniform float uAmbient;
uniform float uShininess;
uniform int uCount;
uniform int uKind[${MAX_LIGHTS}];
uniform vec3 uPos[${MAX_LIGHTS}];
uniform vec3 uDir[${MAX_LIGHTS}];
uniform vec3 uColor[${MAX_LIGHTS}];
uniform float uReach2[${MAX_LIGHTS}];
uniform float uSpecular[${MAX_LIGHTS}];
uniform vec2 uCone[${MAX_LIGHTS}];
uniform int uShadowed[${MAX_LIGHTS}];
out vec4 outColor;
${UNPACK}
float toLinear(float v) { return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4); }
float toSrgb(float v) {
  v = clamp(v, 0.0, 1.0);
  return v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1.0 / 2.4) - 0.055;
}
void main() {
  ivec2 p = ivec2(int(gl_FragCoord.x), int(uSize.y) - 1 - int(gl_FragCoord.y));
  vec3 s = texelFetch(uAlbedo, p, 0).rgb;
  vec3 albedo = vec3(toLinear(s.r), toLinear(s.g), toLinear(s.b));
  vec3 m = texelFetch(uNormals, p, 0).rgb * 2.0 - 1.0;
  vec3 n = normalize(vec3(m.x, -m.y, m.z)); // the map's y is up, the image's down
  float h = unpackHeight(texelFetch(uHeight, p, 0));
  float subject = texelFetch(uSubject, p, 0).r;
  vec2 at = (vec2(p) + 0.5) / uSize;
  vec3 diffuse = vec3(uAmbient);
  vec3 specular = vec3(0.0);
  for (int i = 0; i < ${MAX_LIGHTS}; i++) {
    if (i >= uCount) break;
    vec3 l;
    float falloff = 1.0;
    if (uKind[i] == 1) {
      l = uDir[i];
    } else {
      vec3 d = vec3(uPos[i].x - float(p.x), uPos[i].y - float(p.y), uPos[i].z - h);
      float d2 = dot(d, d);
      l = d * inversesqrt(max(d2, 1e-6));
      falloff = uReach2[i] / (uReach2[i] + d2);
      if (uKind[i] == 2) {
        float c = -dot(l, uDir[i]);
        float low = uCone[i].x;
        float high = uCone[i].y;
        if (high - low < 1e-6) {
          falloff *= step(low, c);
        } else {
          float t = clamp((c - low) / (high - low), 0.0, 1.0);
          falloff *= t * t * (3.0 - 2.0 * t);
        }
      }
    }
    float cosine = dot(n, l);
    float lit = max(cosine, 0.0) * falloff;
    float facing = max((cosine + n.z) / sqrt(max(2.0 + 2.0 * l.z, 1e-6)), 0.0);
    float shine = cosine > 0.0 ? uSpecular[i] * pow(facing, uShininess) * falloff : 0.0;
    if (uShadowed[i] == 1) {
      float v = texture(uVisible, vec3(at.x, 1.0 - at.y, float(i))).r;
      lit *= v;
      shine *= v;
    }
    diffuse += lit * uColor[i];
    specular += shine * subject * uColor[i];
  }
  vec3 lin = albedo * diffuse + specular;
  float alpha = uHasAlpha ? texelFetch(uAlpha, p, 0).r : 1.0;
  outColor = vec4(toSrgb(lin.r), toSrgb(lin.g), toSrgb(lin.b), alpha);
}`;

function srgbToLinear(v) {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

// "#rrggbb" to linear RGB.
export function linearColour(hex) {
  const value = parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255].map((c) => srgbToLinear(c / 255));
}

// A light's unit vector towards it, as Light.direction: azimuth counter-clockwise from the right, y down.
export function direction(light) {
  const azimuth = (light.azimuth * Math.PI) / 180;
  const elevation = (light.elevation * Math.PI) / 180;
  const flat = Math.cos(elevation);
  const z = Math.sin(elevation);
  return [flat * Math.cos(azimuth), -flat * Math.sin(azimuth), light.rim ? -z : z];
}

async function imageOf(dataUrl) {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  return image;
}

export class RelightRenderer {
  // geometry: the job result of POST /api/documents/{id}/relight-geometry.
  static async create(geometry) {
    const sources = [geometry.albedo, geometry.normals, geometry.height_map, geometry.subject, geometry.shadow_map.map];
    const [albedo, normals, height, subject, field, alpha] = await Promise.all(
      [...sources, geometry.alpha || geometry.subject].map(imageOf),
    );
    return new RelightRenderer(geometry, { albedo, normals, height, subject, field, alpha });
  }

  constructor(geometry, images) {
    this.width = geometry.width;
    this.height = geometry.height;
    this.field = { width: geometry.shadow_map.width, height: geometry.shadow_map.height, unit: geometry.shadow_map.unit };
    this.unit = geometry.height_unit;
    this.shading = geometry.shading;
    this.hasAlpha = Boolean(geometry.alpha);
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.width;
    this.canvas.height = this.height;
    const gl = this.canvas.getContext("webgl2", { preserveDrawingBuffer: true, antialias: false, premultipliedAlpha: false });
    if (!gl) throw new Error("this browser has no WebGL 2: the live preview needs it (Apply still works)");
    this.gl = gl;
    this.shade = this.program(SHADE);
    this.march = this.program(SHADOW);
    this.textures = {};
    for (const [name, image] of Object.entries(images)) this.textures[name] = this.texture(image);
    this.visible = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D_ARRAY, this.visible);
    gl.texStorage3D(gl.TEXTURE_2D_ARRAY, 1, gl.RGBA8, this.field.width, this.field.height, MAX_LIGHTS);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D_ARRAY, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.framebuffer = gl.createFramebuffer();
    this.marched = new Array(MAX_LIGHTS).fill(null); // what each layer of `visible` was marched for
    this.vertices = gl.createVertexArray();
  }

  program(fragment) {
    const gl = this.gl;
    const compile = (type, source) => {
      const shader = gl.createShader(type);
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
      return shader;
    };
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl.FRAGMENT_SHADER, fragment));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program));
    const uniforms = {};
    const count = gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS);
    for (let i = 0; i < count; i++) {
      const name = gl.getActiveUniform(program, i).name.replace(/\[0\]$/, "");
      uniforms[name] = gl.getUniformLocation(program, gl.getActiveUniform(program, i).name);
    }
    return { program, uniforms };
  }

  // An image as a texture read texel by texel (no filtering, no colour conversion: the samples as sent).
  texture(image) {
    const gl = this.gl;
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, image);
    for (const [key, value] of [
      [gl.TEXTURE_MIN_FILTER, gl.NEAREST],
      [gl.TEXTURE_MAG_FILTER, gl.NEAREST],
      [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE],
      [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
    ]) gl.texParameteri(gl.TEXTURE_2D, key, value);
    return texture;
  }

  bind(unit, target, texture, location) {
    const gl = this.gl;
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(target, texture);
    gl.uniform1i(location, unit);
  }

  // Light `light` (the panel's: kind, x, y, z, azimuth, elevation, tx, ty, cone, softness, color, intensity,
  // specular, rim) in the units of a frame `width` x `height`.
  static placed(light, width, height) {
    const side = Math.max(width, height);
    const sign = light.rim ? -1 : 1;
    return { x: light.x * width, y: light.y * height, z: sign * light.z * side, side };
  }

  // March the shadows of the lights that changed since they were last marched.
  marchShadows(lights, shadows) {
    const gl = this.gl;
    const { program, uniforms } = this.march;
    lights.forEach((light, i) => {
      // only where the light is moves its shadow: a new colour or strength reuses the march
      const where = [light.kind, light.x, light.y, light.z, light.azimuth, light.elevation];
      const key = shadows && !light.rim ? JSON.stringify(where) : null;
      if (key === null || this.marched[i] === key) return;
      if (light.kind === "dir") {
        const [dx, dy] = direction(light);
        if (Math.hypot(dx, dy) < 1e-6) return;
      }
      gl.useProgram(program);
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, this.visible, 0, i);
      gl.viewport(0, 0, this.field.width, this.field.height);
      this.bind(0, gl.TEXTURE_2D, this.textures.field, uniforms.uField);
      gl.uniform2f(uniforms.uFieldSize, this.field.width, this.field.height);
      gl.uniform1f(uniforms.uUnit, this.field.unit);
      gl.uniform1i(uniforms.uKind, KINDS[light.kind]);
      const at = RelightRenderer.placed(light, this.field.width, this.field.height);
      gl.uniform3fv(uniforms.uLight, light.kind === "dir" ? direction(light) : [at.x, at.y, at.z]);
      gl.uniform1i(uniforms.uSteps, this.shading.shadow_steps);
      gl.uniform1f(uniforms.uReach, this.shading.shadow_reach);
      gl.uniform1f(uniforms.uPenumbra, this.shading.penumbra);
      gl.bindVertexArray(this.vertices);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      this.marched[i] = key;
    });
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  }

  // Draw the photo lit by `lights` (at most MAX_LIGHTS) over `ambient` into this.canvas.
  render(lights, ambient, shadows) {
    const gl = this.gl;
    this.marchShadows(lights, shadows);
    const { program, uniforms } = this.shade;
    gl.useProgram(program);
    gl.viewport(0, 0, this.width, this.height);
    this.bind(0, gl.TEXTURE_2D, this.textures.albedo, uniforms.uAlbedo);
    this.bind(1, gl.TEXTURE_2D, this.textures.normals, uniforms.uNormals);
    this.bind(2, gl.TEXTURE_2D, this.textures.height, uniforms.uHeight);
    this.bind(3, gl.TEXTURE_2D, this.textures.subject, uniforms.uSubject);
    this.bind(4, gl.TEXTURE_2D_ARRAY, this.visible, uniforms.uVisible);
    this.bind(5, gl.TEXTURE_2D, this.textures.alpha, uniforms.uAlpha);
    gl.uniform1i(uniforms.uHasAlpha, this.hasAlpha ? 1 : 0);
    gl.uniform2f(uniforms.uSize, this.width, this.height);
    gl.uniform1f(uniforms.uUnit, this.unit);
    gl.uniform1f(uniforms.uAmbient, ambient);
    gl.uniform1f(uniforms.uShininess, this.shading.shininess);
    gl.uniform1i(uniforms.uCount, lights.length);
    const arrays = { kind: [], pos: [], dir: [], colour: [], reach2: [], specular: [], cone: [], shadowed: [] };
    for (const light of lights) {
      const at = RelightRenderer.placed(light, this.width, this.height);
      let aim = [0, 0, 1];
      if (light.kind === "dir") aim = direction(light);
      if (light.kind === "spot") {
        aim = [(light.tx - light.x) * this.width, (light.ty - light.y) * this.height, -light.z * at.side * (light.rim ? -1 : 1)];
        const length = Math.max(Math.hypot(...aim), 1e-9);
        aim = aim.map((c) => c / length);
      }
      const outer = ((light.cone || 0) / 2) * (Math.PI / 180);
      const inner = outer * (1 - (light.softness || 0));
      const flatDir = light.kind === "dir" && Math.hypot(...direction(light).slice(0, 2)) < 1e-6;
      arrays.kind.push(KINDS[light.kind]);
      arrays.pos.push(at.x, at.y, at.z);
      arrays.dir.push(...aim);
      arrays.colour.push(...linearColour(light.color).map((c) => c * light.intensity));
      arrays.reach2.push((light.reach * at.side) ** 2);
      arrays.specular.push(light.specular);
      arrays.cone.push(Math.cos(outer), Math.cos(inner));
      arrays.shadowed.push(shadows && !light.rim && !flatDir ? 1 : 0);
    }
    if (lights.length) {
      gl.uniform1iv(uniforms.uKind, arrays.kind);
      gl.uniform3fv(uniforms.uPos, arrays.pos);
      gl.uniform3fv(uniforms.uDir, arrays.dir);
      gl.uniform3fv(uniforms.uColor, arrays.colour);
      gl.uniform1fv(uniforms.uReach2, arrays.reach2);
      gl.uniform1fv(uniforms.uSpecular, arrays.specular);
      gl.uniform2fv(uniforms.uCone, arrays.cone);
      gl.uniform1iv(uniforms.uShadowed, arrays.shadowed);
    }
    gl.bindVertexArray(this.vertices);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  // The rendered pixels, top row first (RGBA), waiting for the GPU to finish.
  pixels() {
    const gl = this.gl;
    const flipped = new Uint8Array(this.width * this.height * 4);
    gl.readPixels(0, 0, this.width, this.height, gl.RGBA, gl.UNSIGNED_BYTE, flipped);
    const rows = new Uint8Array(flipped.length);
    const stride = this.width * 4;
    for (let y = 0; y < this.height; y++) rows.set(flipped.subarray((this.height - 1 - y) * stride, (this.height - y) * stride), y * stride);
    return rows;
  }

  // Frames per second of `frames` renders, each with the first light moved a little (its shadow marched again).
  benchmark(lights, ambient, shadows, frames) {
    const started = performance.now();
    for (let i = 0; i < frames; i++) {
      const moved = lights.map((light, j) => (j === 0 ? { ...light, x: light.x + 0.001 * ((i % 2) * 2 - 1) } : light));
      this.render(moved, ambient, shadows);
    }
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, new Uint8Array(4)); // wait for the GPU
    return (frames * 1000) / (performance.now() - started);
  }
}
