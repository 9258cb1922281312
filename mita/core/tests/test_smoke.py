def test_home_page_shows_the_operator_admin_their_cards(client_for, admin_a):
    response = client_for(admin_a).get("/")
    assert response.status_code == 200
    assert "Users" in response.content.decode()
