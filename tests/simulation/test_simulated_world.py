"""Cameras, occlusion and person boxes of the simulated homes."""
import numpy as np

from vicokd.simulation.body import STAND, sprite
from vicokd.simulation.render import Lens, draw_person, static_scene
from vicokd.simulation.world import ObjectState, make_home

W, H = 80, 60


def views_seeing(home, point):
    count = 0
    for v, cam in enumerate(home.cameras):
        image, depth = static_scene(home, v, ObjectState(), W, H)
        count += draw_person(image.copy(), depth, Lens(cam, W, H), point, 0.0, sprite(STAND)).visible
    return count


def free_points(home, n, rng):
    """Random floor points at least 0.4 m from every wall and furniture footprint."""
    points = []
    while len(points) < n:
        p = rng.uniform((0.4, 0.4), (home.size[0] - 0.4, home.size[1] - 0.4))
        boxes = [*home.walls, *home.furniture]
        if all(not (b.lo[0] - 0.4 < p[0] < b.hi[0] + 0.4 and b.lo[1] - 0.4 < p[1] < b.hi[1] + 0.4)
               for b in boxes):
            points.append(tuple(p))
    return points


def test_home2_views_overlap_far_more_than_home1():
    rng = np.random.default_rng(0)
    shares = {}
    for name in ("Home1", "Home2"):
        home = make_home(name)
        counts = np.array([views_seeing(home, p) for p in free_points(home, 60, rng)])
        seen = counts[counts > 0]
        shares[name] = (seen >= 2).mean()
        assert (counts < len(home.cameras)).any()  # some view always misses the person somewhere
    assert shares["Home2"] - shares["Home1"] > 0.4


def test_box_of_a_person_in_front_of_a_camera_matches_the_pinhole_projection():
    home = make_home("Home2")
    lens = Lens(home.cameras[4], W, H)  # at x = 3.5 on the south wall, looking north
    cam = lens.camera.position
    point, dist = (cam[0] - 2.0, 3.0), 3.0 - cam[1]
    image, depth = static_scene(home, 4, ObjectState(), W, H)
    seen = draw_person(image.copy(), depth, lens, point, 0.0, sprite(STAND))
    assert seen.visible
    top_of_head = 0.92 + 0.55 + 0.17 + 0.12  # hip + torso + neck + head radius (metres)
    assert abs(seen.box[1] * H - (lens.cv + lens.f * (cam[2] - top_of_head) / dist)) <= 2
    assert abs(seen.box[3] * H - (lens.cv + lens.f * cam[2] / dist)) <= 2
    centre = lens.cu + lens.f * (-2.0) / dist
    assert seen.box[0] * W < centre < seen.box[2] * W


def test_walls_hide_the_person():
    home = make_home("Home1")
    dining_table = home.places["table"].spot
    image, depth = static_scene(home, 0, ObjectState(), W, H)  # hall camera
    assert not draw_person(image.copy(), depth, Lens(home.cameras[0], W, H), dining_table, 0.0,
                           sprite(STAND)).visible


def test_switchable_objects_change_the_picture():
    home = make_home("Home2")
    off, _ = static_scene(home, 2, ObjectState(lamp_on=False), W, H)
    on, _ = static_scene(home, 2, ObjectState(lamp_on=True), W, H)
    assert on.astype(int).sum() > off.astype(int).sum()
    open_, _ = static_scene(home, 2, ObjectState(curtain_open=True), W, H)
    closed, _ = static_scene(home, 2, ObjectState(curtain_open=False), W, H)
    assert (np.abs(open_.astype(int) - closed.astype(int)).sum(axis=2) > 40).sum() > 20
